package org.chefbackend.repository;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One stanza as {@code pgbackrest --stanza=S info --output=json} (2.45) describes it: its status, its backups and
 * the WAL archived per database. What restore choices and the backup listing are made from.
 *
 * @param backups oldest first, as pgBackRest lists them
 * @param archives one per database the stanza has had (a new one after each stanza-upgrade)
 */
public record BackupInfo(String stanza, Status status, String cipher, List<Backup> backups,
        List<ArchiveRange> archives) {
    /** pgBackRest's stanza status: 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, ... */
    public record Status(int code, String message) {
        public boolean ok() {
            return code == 0;
        }
    }

    /** A full backup stands alone; a diff needs its full; an incr needs the backups it references. */
    public enum Type { FULL, DIFF, INCR }

    /**
     * One backup.
     *
     * @param archiveStart the first WAL segment a restore of it needs (null if pgBackRest recorded none)
     * @param archiveStop the segment that makes it consistent (null likewise)
     * @param lsnStart its start position ("0/2000028"); null when pgBackRest did not report it
     * @param lsnStop its stop position; null likewise
     * @param databaseSize bytes of the database it restores
     * @param repositorySize bytes in the repository of the set a restore reads (it and what it references)
     * @param references labels of the earlier backups it needs
     * @param error whether pgBackRest found errors (page checksums) while taking it
     * @param databaseId the stanza's database it belongs to (its archive is {@link ArchiveRange} of that id)
     */
    public record Backup(String label, Type type, Instant started, Instant stopped, WalSegment archiveStart,
            WalSegment archiveStop, String lsnStart, String lsnStop, long databaseSize, long repositorySize,
            List<String> references, boolean error, long databaseId) {
        public Backup {
            references = List.copyOf(references);
        }
    }

    /**
     * The WAL archived for one database, in its directory {@code id} ("15-1": version, database id).
     *
     * @param min the oldest segment there; null when it holds none
     * @param max the newest; null likewise
     */
    public record ArchiveRange(String id, long databaseId, WalSegment min, WalSegment max) {
    }

    public BackupInfo {
        backups = List.copyOf(backups);
        archives = List.copyOf(archives);
    }

    /** The single stanza {@code json} describes; {@link IllegalArgumentException} naming the field that is amiss. */
    public static BackupInfo parse(String json) {
        JsonFields f = new JsonFields("pgbackrest info");
        JsonNode root = f.tree(json);
        if (!root.isArray() || root.size() != 1) {
            throw f.fail("want an array of exactly one stanza (run with --stanza), got "
                    + (root.isArray() ? root.size() + " stanzas" : "no array"));
        }
        JsonNode stanza = root.get(0);
        String name = f.text(stanza, "name", "stanza");
        String where = "stanza " + name;
        JsonNode status = f.object(stanza, "status", where);
        Status st = new Status((int) f.number(status, "code", where + ".status"),
                f.text(status, "message", where + ".status"));
        List<Backup> backups = new ArrayList<>();
        JsonNode list = f.array(stanza, "backup", where);
        for (int i = 0; i < list.size(); i++) {
            backups.add(backup(f, list.get(i), where + ".backup[" + i + "]"));
        }
        List<ArchiveRange> archives = new ArrayList<>();
        JsonNode ranges = f.array(stanza, "archive", where);
        for (int i = 0; i < ranges.size(); i++) {
            archives.add(archive(f, ranges.get(i), where + ".archive[" + i + "]"));
        }
        return new BackupInfo(name, st, f.text(stanza, "cipher", where), backups, archives);
    }

    /** The oldest backup taken without errors: where the recoverable window begins. */
    public Optional<Backup> oldestValid() {
        return backups.stream().filter(b -> !b.error()).min(Comparator.comparing(Backup::stopped));
    }

    /** The newest backup taken without errors. */
    public Optional<Backup> newestValid() {
        return backups.stream().filter(b -> !b.error()).max(Comparator.comparing(Backup::stopped));
    }

    /** The archive of the stanza's current database (the highest id): where new WAL goes. */
    public Optional<ArchiveRange> currentArchive() {
        return archives.stream().max(Comparator.comparingLong(ArchiveRange::databaseId));
    }

    private static Backup backup(JsonFields f, JsonNode b, String where) {
        String label = f.text(b, "label", where);
        where = where + " (" + label + ")";
        String type = f.text(b, "type", where);
        Type t;
        try {
            t = Type.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw f.fail(where + ".type " + type + " is not full, diff or incr");
        }
        JsonNode time = f.object(b, "timestamp", where);
        JsonNode archive = f.object(b, "archive", where);
        JsonNode lsn = b.get("lsn");
        JsonNode info = f.object(b, "info", where);
        List<String> references = new ArrayList<>();
        JsonNode refs = b.get("reference");
        if (refs != null && !refs.isNull()) {
            JsonNode array = f.array(b, "reference", where);
            for (int i = 0; i < array.size(); i++) {
                if (!array.get(i).isTextual()) {
                    throw f.fail(where + ".reference[" + i + "] is not a label");
                }
                references.add(array.get(i).asText());
            }
        }
        return new Backup(label, t,
                Instant.ofEpochSecond(f.number(time, "start", where + ".timestamp")),
                Instant.ofEpochSecond(f.number(time, "stop", where + ".timestamp")),
                segment(f, archive, "start", where + ".archive"), segment(f, archive, "stop", where + ".archive"),
                lsn(f, lsn, "start", where + ".lsn"), lsn(f, lsn, "stop", where + ".lsn"),
                f.number(info, "size", where + ".info"),
                f.number(f.object(info, "repository", where + ".info"), "size", where + ".info.repository"),
                references, f.flag(b, "error", where),
                f.number(f.object(b, "database", where), "id", where + ".database"));
    }

    private static ArchiveRange archive(JsonFields f, JsonNode a, String where) {
        return new ArchiveRange(f.text(a, "id", where),
                f.number(f.object(a, "database", where), "id", where + ".database"),
                segment(f, a, "min", where), segment(f, a, "max", where));
    }

    private static WalSegment segment(JsonFields f, JsonNode parent, String field, String where) {
        String name = f.textOrNull(parent, field, where);
        try {
            return name == null ? null : WalSegment.parse(name);
        } catch (IllegalArgumentException e) {
            throw f.fail(where + "." + field + ": " + e.getMessage());
        }
    }

    private static String lsn(JsonFields f, JsonNode lsn, String field, String where) {
        if (lsn == null || lsn.isNull()) {
            return null;
        }
        String text = f.textOrNull(lsn, field, where);
        try {
            return text == null ? null : Lsn.format(Lsn.parse(text));
        } catch (IllegalArgumentException e) {
            throw f.fail(where + "." + field + ": " + e.getMessage());
        }
    }
}
