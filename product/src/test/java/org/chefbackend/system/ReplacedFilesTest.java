package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplacedFilesTest {
    @TempDir
    Path tmp;

    @Test
    void onlyADeletedAbsoluteTargetIsAReplacedFile() {
        String[][] table = {
            {"/usr/lib/postgresql/15/bin/postgres (deleted)", "/usr/lib/postgresql/15/bin/postgres"},
            {"/opt/chef-backend/lib/chef backend.jar (deleted)", "/opt/chef-backend/lib/chef backend.jar"},
            {"/usr/bin/etcd", null},
            {"socket:[123456]", null},
            {"anon_inode:[eventfd]", null},
            {"pipe:[42] (deleted)", null},
            {"", null},
        };
        for (String[] row : table) {
            assertEquals(Optional.ofNullable(row[1]), ReplacedFiles.deletedTarget(row[0]), row[0]);
        }
    }

    @Test
    void mapsPathsAreTheSixthColumnWithSpacesKeptAndEachOnce() {
        String maps = String.join("\n",
                "55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1311 /usr/lib/postgresql/15/bin/postgres (deleted)",
                "55d0c0a02000-55d0c0a08000 r-xp 00002000 fd:01 1311 /usr/lib/postgresql/15/bin/postgres (deleted)",
                "7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ",
                "7f1c2b000000-7f1c2b200000 rw-s 00000000 00:01 7 /SYSV00000000 (deleted)",
                "7f1c2c000000-7f1c2c100000 r--p 00000000 fd:01 99 /usr/lib/x86_64-linux-gnu/libssl.so.3",
                "7ffd4a000000-7ffd4a021000 rw-p 00000000 00:00 0                          [stack]",
                "7f1c2d000000-7f1c2d001000 r--p 00000000 fd:01 77 /opt/my dir/lib.so",
                "");
        assertEquals(List.of("/usr/lib/postgresql/15/bin/postgres (deleted)", "/SYSV00000000 (deleted)",
                "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/opt/my dir/lib.so"), ReplacedFiles.mappedPaths(maps));
    }

    @Test
    void onlyFilesUnderTheWatchedRootsCount() {
        ReplacedFiles files = new ReplacedFiles(Path.of("/proc"),
                List.of(Path.of("/usr"), Path.of("/opt/chef-backend")));
        Object[][] table = {
            {"/usr/lib/x86_64-linux-gnu/libssl.so.3", true},
            {"/opt/chef-backend/lib/chef-backend.jar", true},
            {"/opt/chef-backend-old/lib/x.jar", false},
            {"/var/opt/chef-backend/elasticsearch/data/nodes/0/_1.cfs", false},
            {"/dev/shm/PostgreSQL.1804289383", false},
            {"/memfd:jit", false},
            {"/usr/../var/x", false},
        };
        for (Object[] row : table) {
            assertEquals(row[1], files.watched((String) row[0]), (String) row[0]);
        }
    }

    /**
     * As dpkg upgrades a package: a program and a jar it holds open are each replaced by writing the new file and
     * renaming it over the old. The process that runs them is flagged with both; a copy left alone is not, and
     * neither is a deleted file outside the watched roots (a data file).
     */
    @Test
    void aRunningProgramWhoseFilesWereReplacedIsFlaggedAndAnUntouchedOneIsNot() throws Exception {
        Path root = tmp.toRealPath(); // as /proc names it
        Path bin = Files.createDirectories(root.resolve("opt/bin"));
        Path lib = Files.createDirectories(root.resolve("opt/lib"));
        Path data = Files.createDirectories(root.resolve("data"));
        Path upgraded = copySleep(bin.resolve("upgraded"));
        Path untouched = copySleep(bin.resolve("untouched"));
        Path jar = Files.writeString(lib.resolve("product.jar"), "old");
        Path log = data.resolve("output.log");
        Process a = new ProcessBuilder(upgraded.toString(), "60").redirectInput(jar.toFile())
                .redirectOutput(log.toFile()).start();
        Process b = new ProcessBuilder(untouched.toString(), "60").redirectInput(jar.toFile()).start();
        try {
            ReplacedFiles files = new ReplacedFiles(Path.of("/proc"), List.of(root.resolve("opt")));
            // the JDK starts a child through a helper that then execs the program: wait for the program
            assertTrue(Poll.until(Duration.ofSeconds(10), Duration.ofMillis(20),
                    () -> runs(a, upgraded) && runs(b, untouched)), "the copies never ran");
            assertEquals(Optional.of(List.of()), files.of(a.pid()), "nothing replaced yet");

            replaceLikeDpkg(upgraded, Files.readAllBytes(Path.of("/bin/sleep")));
            replaceLikeDpkg(jar, "new".getBytes());
            Files.delete(log);

            assertEquals(Optional.of(List.of(upgraded.toString(), jar.toString())), files.of(a.pid()));
            // b holds the same replaced jar open; its own program was left alone
            assertEquals(Optional.of(List.of(jar.toString())), files.of(b.pid()));
            assertTrue(a.isAlive() && b.isAlive(), "replacing the files must not disturb the processes");
        } finally {
            a.destroyForcibly().waitFor();
            b.destroyForcibly().waitFor();
        }
        assertFalse(new ReplacedFiles(Path.of("/proc"), List.of(tmp)).of(a.pid()).isPresent(),
                "a process that is gone has nothing to tell");
    }

    @Test
    void anUntouchedProgramHasNothingReplaced() throws Exception {
        Path copy = copySleep(tmp.toRealPath().resolve("sleep"));
        Process p = new ProcessBuilder(copy.toString(), "60").start();
        try {
            assertTrue(Poll.until(Duration.ofSeconds(10), Duration.ofMillis(20), () -> runs(p, copy)));
            assertEquals(Optional.of(List.of()), new ReplacedFiles(Path.of("/proc"), List.of(tmp)).of(p.pid()));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private static Path copySleep(Path target) throws IOException {
        Files.copy(Path.of("/bin/sleep"), target);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        return target;
    }

    /** dpkg's way: the new file beside the old, then renamed over it (the old inode lives on while in use). */
    private static void replaceLikeDpkg(Path file, byte[] content) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + ".dpkg-new");
        Files.write(next, content);
        Files.setPosixFilePermissions(next, Files.getPosixFilePermissions(file));
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static boolean runs(Process p, Path program) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "exe")).equals(program);
        } catch (IOException e) {
            return false;
        }
    }
}
