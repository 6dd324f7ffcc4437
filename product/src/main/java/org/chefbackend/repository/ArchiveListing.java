package org.chefbackend.repository;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The files of a stanza's WAL archive as {@code pgbackrest repo-ls --output=json --recurse archive/<stanza>} lists
 * them, per archive id directory ("15-1"): the same for every repository type, posix or object storage, so the gap
 * check never reads a repository itself.
 *
 * @param files by archive id, each sorted by name
 * @param misplaced files under an archive id where pgBackRest would not look for them (a segment outside its
 *     {@code TTTTTTTTXXXXXXXX} directory, a history file inside one); relative paths
 */
public record ArchiveListing(Map<String, List<Entry>> files, List<String> misplaced) {
    /**
     * One archived file.
     *
     * @param size bytes; -1 when the listing did not say
     * @param modified when it was stored; null when the listing did not say
     */
    public record Entry(String name, long size, Instant modified) {
    }

    private static final Pattern ARCHIVE_ID = Pattern.compile("[0-9]+(?:\\.[0-9]+)?-[0-9]+");
    private static final Pattern SEGMENT_DIR = Pattern.compile("[0-9A-F]{16}");

    public ArchiveListing {
        files = Map.copyOf(files);
        misplaced = List.copyOf(misplaced);
    }

    /** The listing {@code json} of {@code archive/<stanza>}; {@link IllegalArgumentException} naming what is amiss. */
    public static ArchiveListing parse(String json) {
        JsonFields f = new JsonFields("pgbackrest repo-ls");
        JsonNode root = f.tree(json);
        if (!root.isObject()) {
            throw f.fail("want an object of paths, got " + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        Map<String, List<Entry>> files = new TreeMap<>();
        List<String> misplaced = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = e.getKey();
            JsonNode node = e.getValue();
            if (!node.isObject()) {
                throw f.fail(path + " is not an object");
            }
            if (!"file".equals(f.text(node, "type", path))) {
                continue;
            }
            String[] parts = path.split("/");
            if (!ARCHIVE_ID.matcher(parts[0]).matches() || parts.length == 1) {
                continue;
            }
            String name = parts[parts.length - 1];
            if (!inItsPlace(parts)) {
                misplaced.add(path);
                continue;
            }
            long size = node.has("size") ? f.number(node, "size", path) : -1;
            Instant modified = node.has("time") ? Instant.ofEpochSecond(f.number(node, "time", path)) : null;
            files.computeIfAbsent(parts[0], id -> new ArrayList<>()).add(new Entry(name, size, modified));
        }
        files.values().forEach(list -> list.sort(Comparator.comparing(Entry::name)));
        return new ArchiveListing(files, misplaced);
    }

    /** The archive ids listed, sorted. */
    public List<String> ids() {
        return List.copyOf(new TreeMap<>(files).keySet());
    }

    /** The stored names under archive {@code id}: what {@link ArchiveGaps#check} takes. */
    public List<String> names(String id) {
        return files.getOrDefault(id, List.of()).stream().map(Entry::name).toList();
    }

    /** The newest full segment archived under {@code id} (highest timeline, then number), with its file. */
    public Optional<Entry> newestSegment(String id) {
        return files.getOrDefault(id, List.of()).stream()
                .filter(e -> ArchivedFile.matches(e.name())
                        && ArchivedFile.parse(e.name()).wal().kind() == WalFileName.Kind.SEGMENT)
                .max(Comparator.comparing(e -> ArchivedFile.parse(e.name()).wal().segment()));
    }

    /**
     * pgBackRest keeps segments, .partial files and backup labels in their TTTTTTTTXXXXXXXX directory and history
     * files beside those directories; a file it cannot name is left to the gap check's "unrecognized".
     */
    private static boolean inItsPlace(String[] parts) {
        String name = parts[parts.length - 1];
        boolean wal = ArchivedFile.matches(name);
        boolean segmentKind = wal && ArchivedFile.parse(name).wal().kind() != WalFileName.Kind.HISTORY;
        if (parts.length == 2) {
            return !segmentKind;
        }
        if (parts.length == 3 && SEGMENT_DIR.matcher(parts[1]).matches()) {
            return !wal || (segmentKind && name.startsWith(parts[1]));
        }
        return false;
    }
}
