package org.chefbackend.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.chefbackend.system.FileTrees;

/**
 * The openssl command line, for what the JDK cannot do without internal APIs (make certificates). Keys only ever go
 * through files in a private (0700) scratch directory, never through a command line or an error message.
 */
final class Openssl {
    private static final long TIMEOUT_SECONDS = 60;

    private Openssl() {
    }

    /** A private scratch directory, removed by {@link Scratch#close}. */
    static Scratch scratch() {
        try {
            return new Scratch(Files.createTempDirectory("chef-backend-tls-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
        } catch (IOException e) {
            throw new TlsException("cannot make a scratch directory for openssl: " + e.getMessage());
        }
    }

    record Scratch(Path dir) implements AutoCloseable {
        Path file(String name) {
            return dir.resolve(name);
        }

        Path write(String name, String content) {
            try {
                return Files.writeString(dir.resolve(name), content, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new TlsException("cannot write " + name + " for openssl: " + e.getMessage());
            }
        }

        String read(String name) {
            try {
                return Files.readString(dir.resolve(name), StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new TlsException("openssl left no " + name + ": " + e.getMessage());
            }
        }

        @Override
        public void close() {
            try {
                FileTrees.deleteTree(dir);
            } catch (IOException e) {
                // a scratch directory under /tmp, 0700: nothing to do but leave it
            }
        }
    }

    /** Runs {@code openssl args…} in {@code dir}; its output only when it fails (it never prints keys there). */
    static void run(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TlsException("openssl " + args[0] + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new TlsException("openssl " + args[0] + " failed (exit " + p.exitValue() + "): "
                        + new String(out, StandardCharsets.UTF_8).strip().replace('\n', ' '));
            }
        } catch (IOException e) {
            throw new TlsException("openssl cannot run (is the openssl package installed?): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TlsException("openssl interrupted");
        }
    }
}
