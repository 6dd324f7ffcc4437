package org.chefbackend.system;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.chefbackend.system.ShortCommand.Output;

/**
 * What chef-backend runs but does not bundle: Debian installs these packages and upgrades them on its own, so their
 * versions are read when asked, never recorded at build time. version-manifest.json lists them as required.
 */
public final class DebianComponents {
    /** How a component's program is found on this machine. */
    public enum Locator {
        POSTGRES, ON_PATH, RUNNING_JAVA
    }

    /**
     * @param name the manifest's key: the Debian package (a virtual one for the Java runtime)
     * @param versionConstraint the versions the product works with
     * @param program the program the product runs from it
     */
    public record Required(String name, String versionConstraint, String program, Locator locator,
            String versionArgument) {
    }

    // etcd below 3.6: the product runs etcd with the v2 API on (enable-v2), which 3.6 removes
    public static final List<Required> REQUIRED = List.of(
            new Required("postgresql-15", ">= 15, < 16", "postgres", Locator.POSTGRES, "--version"),
            new Required("etcd-server", ">= 3.4, < 3.6", "etcd", Locator.ON_PATH, "--version"),
            new Required("etcd-client", ">= 3.4, < 3.6", "etcdctl", Locator.ON_PATH, "version"),
            new Required("java17-runtime-headless", ">= 17", "java", Locator.RUNNING_JAVA, "-version"),
            new Required("pgbackrest", ">= 2.45", "pgbackrest", Locator.ON_PATH, "version"));

    /**
     * One component as installed now.
     *
     * @param debianPackage the package that holds the program (for Java, whichever provides the running one)
     * @param problem why it cannot be used, or null
     */
    public record Installed(Required required, String debianPackage, String packageVersion, String programVersion,
            Path path, String problem) {
    }

    static final String NO_DPKG = "dpkg-query did not answer (not a Debian system?)";

    private DebianComponents() {
    }

    /** Reads what is installed now: the program, its package's version (dpkg) and the program's own version. */
    public static Installed probe(Required r) {
        Path program;
        try {
            program = locate(r);
        } catch (Binaries.MissingBinaryException e) {
            String pkg = r.locator() == Locator.RUNNING_JAVA ? "openjdk-17-jre-headless" : r.name();
            return new Installed(r, pkg, null, null, null, e.getMessage());
        }
        String pkg = r.name();
        String programVersion = System.getProperty("java.version");
        if (r.locator() == Locator.RUNNING_JAVA) {
            Optional<Output> search = run("dpkg-query", "-S", program.toString());
            Optional<String> owner = search.flatMap(o -> owner(o.exit(), o.text()));
            if (owner.isEmpty()) {
                return new Installed(r, null, null, programVersion, program, search.isEmpty() ? NO_DPKG
                        : "not from a Debian package: Debian's upgrades do not reach it");
            }
            pkg = owner.get();
        } else {
            programVersion = Binaries.version(program, r.versionArgument()).orElse("unknown");
        }
        Optional<Output> query = run("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", pkg);
        Optional<String> version = query.flatMap(o -> installedVersion(o.exit(), o.text()));
        String problem = version.isPresent() ? null : query.isEmpty() ? NO_DPKG
                : "the Debian package " + pkg + " is not installed (" + program + " comes from elsewhere)";
        return new Installed(r, pkg, version.orElse(null), programVersion, program, problem);
    }

    /** The program the product would run; MissingBinaryException names the package to install. */
    private static Path locate(Required r) {
        return switch (r.locator()) {
            case POSTGRES -> Binaries.postgresBinDir().resolve(r.program());
            case ON_PATH -> Binaries.require(r.program(), r.name());
            case RUNNING_JAVA -> Path.of(System.getProperty("java.home"), "bin", "java");
        };
    }

    /**
     * The version from {@code dpkg-query -W -f='${db:Status-Status} ${Version}' PKG}: "installed 15.18-0+deb12u1".
     * A package removed with its configuration kept ("config-files …") or unknown to dpkg (exit 1) is not installed.
     */
    static Optional<String> installedVersion(int exit, String output) {
        String[] parts = output.strip().split(" ", 2);
        if (exit != 0 || parts.length != 2 || !parts[0].equals("installed") || parts[1].isBlank()) {
            return Optional.empty();
        }
        return Optional.of(parts[1].strip());
    }

    /** The package from {@code dpkg-query -S FILE}: "openjdk-17-jre-headless:amd64: /usr/lib/jvm/…/bin/java". */
    static Optional<String> owner(int exit, String output) {
        String first = output.strip().lines().findFirst().orElse("");
        int colon = first.indexOf(": ");
        if (exit != 0 || colon <= 0 || first.startsWith("diversion ")) {
            return Optional.empty();
        }
        String pkg = first.substring(0, colon).split(",")[0].strip(); // "a, b: /path" when two packages hold it
        int arch = pkg.indexOf(':');
        return Optional.of(arch > 0 ? pkg.substring(0, arch) : pkg);
    }

    /** Runs a short query; empty when it cannot run (no dpkg-query: not a Debian system). */
    private static Optional<Output> run(String... command) {
        return ShortCommand.run(Duration.ofSeconds(10), false, List.of(command));
    }
}
