package org.chefbackend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/install-deps picks the packages for what is asked (build and run, --test, --bench), on a machine made to look
 * empty by stand-ins for dpkg-query, javac and mvn; --dry-run, so nothing is installed and apt-get never runs.
 */
class InstallDepsTest {
    static final List<String> BUILD_AND_RUN = List.of("postgresql-15", "etcd-server", "etcd-client", "pgbackrest", "openssl",
            "haproxy");

    @TempDir
    Path tmp;

    Path bin;

    record Run(int code, String out, String err) {
    }

    @BeforeEach
    void emptyMachine() throws IOException {
        bin = Files.createDirectories(tmp.resolve("bin"));
        script("dpkg-query", "exit 1");                     // no package installed
        script("javac", "echo 'javac 17.0.9' >&2");
        script("mvn", "exit 0");
        script("apt-get", "echo apt-get ran >&2; exit 99"); // a dry run must never reach it
    }

    @Test
    void eachFlagAddsWhatItNeedsAndTheDefaultNothingOfTheHarnesses() throws Exception {
        assertEquals(new TreeSet<>(BUILD_AND_RUN), wouldInstall());
        Set<String> test = new TreeSet<>(BUILD_AND_RUN);
        test.addAll(List.of("iptables", "patroni", "iproute2", "curl", "fontconfig", "fonts-dejavu-core", "lintian",
                "systemd"));
        assertEquals(test, wouldInstall("--test"));
        Set<String> bench = new TreeSet<>(BUILD_AND_RUN);
        bench.addAll(List.of("patroni", "iptables", "bc", "fontconfig", "fonts-dejavu-core"));
        assertEquals(bench, wouldInstall("--bench"));
        Set<String> both = new TreeSet<>(test);
        both.addAll(bench);
        assertEquals(both, wouldInstall("--test", "--bench"));
    }

    @Test
    void aJdkOlderThan17IsReplacedAndAMissingMavenInstalled() throws Exception {
        script("javac", "echo 'javac 11.0.2' >&2");
        Files.delete(bin.resolve("mvn"));
        Set<String> need = wouldInstall();
        assertTrue(need.contains("openjdk-17-jdk-headless"), need.toString());
        // the real mvn may be on PATH behind the stand-ins; only a machine without one must get Maven
        boolean mvnElsewhere = run(List.of("sh", "-c", "command -v mvn")).code() == 0;
        assertEquals(!mvnElsewhere, need.contains("maven"), need.toString());
    }

    @Test
    void anInstalledMachineIsLeftAsItIs() throws Exception {
        script("dpkg-query", "echo 'install ok installed'");
        Run r = installDeps("--test", "--bench");
        assertEquals(0, r.code(), r.err());
        assertEquals("install-deps: everything is installed\n", r.out());
        assertFalse(r.err().contains("apt-get ran"), r.err());
    }

    @Test
    void anUnknownOptionIsOneLine() throws Exception {
        Run r = installDeps("--tests");
        assertEquals(1, r.code());
        assertEquals("install-deps: unknown option '--tests' (usage: bin/install-deps [--test] [--bench] [--dry-run])\n",
                r.err());
    }

    private Set<String> wouldInstall(String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of(flags));
        args.add("--dry-run");
        Run r = installDeps(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("install-deps: would install "), r.out());
        return new TreeSet<>(List.of(r.out().strip().substring("install-deps: would install ".length()).split(" ")));
    }

    private Run installDeps(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sh", ReadmeTest.REPO.resolve("bin/install-deps").toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private Run run(List<String> cmd) throws IOException, InterruptedException {
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "install-deps did not finish: " + cmd);
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private void script(String name, String body) throws IOException {
        Path file = bin.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    }
}
