package org.chefbackend.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.chefbackend.bench.Procs;

/**
 * The Debian package on this machine, as an operator handles it (rolling-upgrade's machine side): the .deb that
 * {@code mvn package} built, a newer build of it (build-deb.sh again with a higher version), apt-get install, purge,
 * dpkg-query; and which of the package's files a running process holds open, to tell old code from new: dpkg replaces
 * every file of an upgraded package, so a process that started before the install holds the replaced ones, shown by
 * /proc as "(deleted)".
 */
final class DebPackage {
    static final String NAME = "chef-backend";
    static final Path OPT = Path.of("/opt/chef-backend");
    static final Path CTL = Path.of("/usr/bin/chef-backend-ctl");
    /** What a package installed at the real root owns or makes; none may exist before the harness installs it. */
    static final List<Path> MACHINE_PATHS = List.of(OPT, Path.of("/etc/chef-backend"), Path.of("/var/opt/chef-backend"),
            Path.of("/var/log/chef-backend"));
    static final String DELETED = " (deleted)";

    private DebPackage() {
    }

    /** The newest chef-backend_*_all.deb that {@code mvn package} left in product/target. */
    static Path built(Path repo) throws IOException {
        Path target = repo.resolve("product/target");
        if (!Files.isDirectory(target)) {
            throw new IllegalStateException("no package in " + target + "; run (cd " + repo + " && mvn -q -DskipTests package)");
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().matches("chef-backend_.*_all\\.deb"))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()))
                    .orElseThrow(() -> new IllegalStateException("no chef-backend_*_all.deb in " + target
                            + "; run (cd " + repo + " && mvn -q -DskipTests package)"));
        }
    }

    /** The Version field of a .deb. */
    static String version(Path deb) {
        Procs.Result r = Procs.run(Duration.ofSeconds(30), "dpkg-deb", "--field", deb.toString(), "Version");
        if (r.code() != 0 || r.out().isBlank()) {
            throw new IllegalStateException("dpkg-deb --field " + deb + " Version: " + r.all());
        }
        return r.out().strip();
    }

    /** The same distribution packaged again as {@code version}, as the next build would be (PackageIT's way). */
    static Path buildAs(Path repo, Path dist, Path out, String version) throws IOException {
        Files.createDirectories(out);
        Procs.Result r = Procs.run(Duration.ofMinutes(5), "bash", repo.resolve("product/src/deb/build-deb.sh").toString(),
                dist.toString(), out.toString(), version, repo.toString());
        Path deb = out.resolve(NAME + "_" + version + "_all.deb");
        if (r.code() != 0 || !Files.isRegularFile(deb)) {
            throw new IllegalStateException("build-deb.sh " + version + ": " + r.all());
        }
        return deb;
    }

    /** The installed version, null when the package is not installed (never, removed, or only its conffiles left). */
    static String installedVersion() {
        Procs.Result r = Procs.run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}|${Version}", NAME);
        String[] f = r.out().strip().split("\\|", 2);
        return r.code() == 0 && f.length == 2 && f[0].equals("install ok installed") ? f[1] : null;
    }

    /**
     * Refuses a machine where chef-backend is installed or its directories exist: the harness installs and purges the
     * package itself (the purge would take an operator's node with it), as PackageIT does.
     */
    static void requireAbsent() {
        String v = installedVersion();
        if (v != null) {
            throw new IllegalStateException("chef-backend " + v + " is installed on this machine; rolling-upgrade installs"
                    + " and purges it itself, so it runs only where it is not (dpkg --purge chef-backend)");
        }
        for (Path p : MACHINE_PATHS) {
            if (Files.exists(p)) {
                throw new IllegalStateException(p + " exists; rolling-upgrade runs only on a machine without chef-backend");
            }
        }
    }

    /** apt-get install of a .deb file (a downgrade allowed: each run starts again from version A). */
    static Procs.Result install(Path deb) {
        return Procs.run(Duration.ofMinutes(10), Map.of("DEBIAN_FRONTEND", "noninteractive"), List.of("apt-get", "-q",
                "-o", "DPkg::Lock::Timeout=120", "install", "-y", "--allow-downgrades", deb.toAbsolutePath().toString()));
    }

    /** dpkg --purge (the nodes running from /opt/chef-backend must have stopped). */
    static Procs.Result purge() {
        return Procs.run(Duration.ofMinutes(5), Map.of("DEBIAN_FRONTEND", "noninteractive"),
                List.of("dpkg", "--purge", NAME));
    }

    /**
     * Files of the package's directory that process {@code pid} holds open (its descriptors) or maps, as /proc names
     * them: a name ending in " (deleted)" is a file an upgrade replaced since the process opened it.
     */
    static List<String> packageFiles(long pid) {
        return filesUnder(pid, OPT);
    }

    /** Files under {@code dir} that process {@code pid} holds open or maps, as /proc names them. */
    static List<String> filesUnder(long pid, Path dir) {
        List<String> files = new ArrayList<>();
        String prefix = dir + "/";
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(prefix)) {
                        files.add(target);
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return List.of(); // the process is gone
        }
        try (Stream<String> maps = Files.lines(Path.of("/proc/" + pid + "/maps"))) {
            maps.map(DebPackage::mappedPath).filter(f -> f.startsWith(prefix)).distinct().forEach(files::add);
        } catch (IOException | UncheckedIOException e) {
            // gone meanwhile: what its descriptors showed stands
        }
        return files.stream().distinct().toList();
    }

    /**
     * The path column of a /proc/PID/maps line ("" for an anonymous mapping): the sixth field, to the end of the line
     * (a path may hold spaces, and " (deleted)" follows a removed file). A node root's own var/opt/chef-backend holds
     * "/opt/chef-backend/" too, so only the path's start may be compared.
     */
    static String mappedPath(String line) {
        String[] f = line.strip().split("\\s+", 6);
        return f.length == 6 ? f[5] : "";
    }

    /** Of {@link #packageFiles}, those replaced since the process opened them. */
    static List<String> replaced(List<String> files) {
        return files.stream().filter(f -> f.endsWith(DELETED)).toList();
    }
}
