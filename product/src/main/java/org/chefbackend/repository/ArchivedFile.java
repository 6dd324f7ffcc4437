package org.chefbackend.repository;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file as pgBackRest keeps it in an archive directory: segments and {@code .partial} files under
 * {@code <name>-<sha1>[.gz|.lz4|.zst|.bz2]}, history files and backup labels under their own names. The checksum
 * tells two copies of one segment apart: pgBackRest refuses to read a segment it holds twice.
 *
 * @param checksum the SHA-1 pgBackRest appended; empty for history files and backup labels
 * @param compression the compression extension without its dot; empty when stored plain
 */
public record ArchivedFile(String storedName, WalFileName wal, String checksum, String compression) {
    private static final Pattern SEGMENT = Pattern.compile(
            "(?<wal>[0-9A-F]{24}(?:\\.partial)?)-(?<sha>[0-9a-f]{40})(?:\\.(?<ext>gz|lz4|zst|bz2))?");
    private static final Pattern PLAIN = Pattern.compile("[0-9A-F]{8}\\.history|[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup");

    /** Whether {@code storedName} (without directories) is a name pgBackRest gives archived WAL. */
    public static boolean matches(String storedName) {
        return storedName != null && (SEGMENT.matcher(storedName).matches() || PLAIN.matcher(storedName).matches());
    }

    /** The file {@code storedName} (without directories) is; {@link IllegalArgumentException} saying why none. */
    public static ArchivedFile parse(String storedName) {
        Matcher m = storedName == null ? null : SEGMENT.matcher(storedName);
        try {
            if (m != null && m.matches()) {
                String ext = m.group("ext") == null ? "" : m.group("ext");
                return new ArchivedFile(storedName, WalFileName.parse(m.group("wal")), m.group("sha"), ext);
            }
            if (storedName != null && PLAIN.matcher(storedName).matches()) {
                return new ArchivedFile(storedName, WalFileName.parse(storedName), "", "");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a file pgBackRest archives: " + e.getMessage());
        }
        throw new IllegalArgumentException("not a file pgBackRest archives (<segment>[.partial]-<sha1>[.gz|.lz4|.zst"
                + "|.bz2], NNNNNNNN.history or a .backup label): " + WalSegment.quoted(storedName));
    }
}
