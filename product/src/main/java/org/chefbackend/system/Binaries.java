package org.chefbackend.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the Debian-packaged programs the product runs and reads their versions. Searched, not hard-coded, so a
 * minor upgrade of a package (or another PostgreSQL major under /usr/lib/postgresql) is found.
 */
public final class Binaries {
    /** Overrides the PostgreSQL bin directory search. */
    public static final String PG_BINDIR_ENV = "CHEF_BACKEND_PG_BINDIR";
    static final int PREFERRED_PG_MAJOR = 15;
    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+(\\.\\d+)?)");

    private Binaries() {
    }

    /** A program that is missing, with the Debian package that provides it. */
    public static final class MissingBinaryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public MissingBinaryException(String program, String debianPackage) {
            super(program + " not found; install the Debian package " + debianPackage
                    + " (apt-get install " + debianPackage + ")");
        }
    }

    /** The bin directory of PostgreSQL 15 (else the newest installed major). */
    public static Path postgresBinDir() {
        String env = System.getenv(PG_BINDIR_ENV);
        if (env != null && !env.isBlank()) {
            Path dir = Path.of(env);
            if (Files.isExecutable(dir.resolve("postgres"))) {
                return dir;
            }
            throw new MissingBinaryException(dir.resolve("postgres") + " (from " + PG_BINDIR_ENV + ")",
                    "postgresql-" + PREFERRED_PG_MAJOR);
        }
        Path base = Path.of("/usr/lib/postgresql");
        try (Stream<Path> majors = Files.list(base)) {
            List<Path> candidates = majors
                    .filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> Files.isExecutable(p.resolve("bin/postgres")))
                    .sorted(Comparator.comparing((Path p) -> Integer.parseInt(p.getFileName().toString())).reversed())
                    .toList();
            return candidates.stream()
                    .filter(p -> p.getFileName().toString().equals(String.valueOf(PREFERRED_PG_MAJOR)))
                    .findFirst().or(() -> candidates.stream().findFirst())
                    .map(p -> p.resolve("bin"))
                    .orElseThrow(() -> new MissingBinaryException("PostgreSQL", "postgresql-" + PREFERRED_PG_MAJOR));
        } catch (IOException e) {
            throw new MissingBinaryException("PostgreSQL (" + base + ")", "postgresql-" + PREFERRED_PG_MAJOR);
        }
    }

    /** An executable on PATH. */
    public static Optional<Path> onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public static Path require(String program, String debianPackage) {
        return onPath(program).orElseThrow(() -> new MissingBinaryException(program, debianPackage));
    }

    /** Runs {@code program args} briefly and returns the first version number it prints. */
    public static Optional<String> version(Path program, String... args) {
        String[] command = new String[args.length + 1];
        command[0] = program.toString();
        System.arraycopy(args, 0, command, 1, args.length);
        return ShortCommand.run(Duration.ofSeconds(5), true, List.of(command))
                .map(o -> VERSION.matcher(o.text()))
                .filter(Matcher::find)
                .map(m -> m.group(1));
    }
}
