package org.chefbackend.system;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The files a running process still executes, maps or holds open although they were replaced on disk since it
 * started: what a package upgrade (dpkg writes the new file and renames it over the old) leaves behind until the
 * process restarts. Found as needrestart finds them: the kernel marks such a target " (deleted)" in
 * {@code /proc/PID/exe}, {@code /proc/PID/maps} and {@code /proc/PID/fd}.
 *
 * <p>Only files under the watched roots count (the system's programs and libraries, the product's home): a database
 * or search index that a process maps and then deletes (a merged Lucene segment, PostgreSQL's shared memory in
 * /dev/shm) is its own business, not an upgrade. The executable always counts.
 */
public final class ReplacedFiles {
    static final String DELETED = " (deleted)";
    /** Where Debian's packages and the product put programs, libraries and jars. */
    static final List<Path> SYSTEM_ROOTS = List.of(Path.of("/usr"), Path.of("/lib"), Path.of("/lib64"),
            Path.of("/bin"), Path.of("/sbin"), Path.of("/opt"));

    private final Path proc;
    private final List<Path> watched;

    ReplacedFiles(Path proc, List<Path> watched) {
        this.proc = proc;
        this.watched = List.copyOf(watched);
    }

    /** For the product: the system's roots and the distribution's home (a build tree's target/dist as well). */
    public static ReplacedFiles forProduct() {
        List<Path> roots = new ArrayList<>(SYSTEM_ROOTS);
        roots.add(Distribution.home());
        return new ReplacedFiles(Path.of("/proc"), roots);
    }

    /**
     * The replaced files {@code pid} runs: its executable first, then mapped files, then open ones, each once.
     * Empty when the process is gone or its /proc entries cannot be read (another user's, without root).
     */
    public Optional<List<String>> of(long pid) {
        Path dir = proc.resolve(Long.toString(pid));
        try {
            Set<String> found = new LinkedHashSet<>();
            deletedTarget(Files.readSymbolicLink(dir.resolve("exe")).toString()).ifPresent(found::add);
            for (String mapped : mappedPaths(Files.readString(dir.resolve("maps")))) {
                deletedTarget(mapped).filter(this::watched).ifPresent(found::add);
            }
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(dir.resolve("fd"))) {
                for (Path fd : fds) {
                    openTarget(fd).flatMap(ReplacedFiles::deletedTarget).filter(this::watched).ifPresent(found::add);
                }
            }
            return Optional.of(List.copyOf(found));
        } catch (IOException | DirectoryIteratorException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** A descriptor closed between listing and reading is simply not open any more. */
    private static Optional<String> openTarget(Path fd) {
        try {
            return Optional.of(Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** "/usr/bin/etcd (deleted)" is the replaced /usr/bin/etcd; anything else is the file as it is now. */
    static Optional<String> deletedTarget(String target) {
        if (!target.startsWith("/") || !target.endsWith(DELETED)) {
            return Optional.empty(); // also "socket:[…]", "pipe:[…]", "anon_inode:[…]"
        }
        return Optional.of(target.substring(0, target.length() - DELETED.length()));
    }

    /**
     * The path column of /proc/PID/maps ({@code address perms offset dev inode path}), each path once; anonymous
     * mappings have none. A path may hold spaces, so it is everything after the fifth field.
     */
    static List<String> mappedPaths(String maps) {
        Set<String> paths = new LinkedHashSet<>();
        for (String line : maps.split("\n")) {
            String[] fields = line.strip().split("\\s+", 6);
            if (fields.length == 6 && fields[5].startsWith("/")) {
                paths.add(fields[5]);
            }
        }
        return List.copyOf(paths);
    }

    boolean watched(String file) {
        Path path = Path.of(file).normalize();
        return watched.stream().anyMatch(path::startsWith);
    }
}
