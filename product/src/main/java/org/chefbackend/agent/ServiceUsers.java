package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The unprivileged users services run as (the original's: postgresql and leaderl as chef_pgsql, elasticsearch and etcd
 * as chef-backend), and the file ownership that goes with them. PostgreSQL and OpenSearch refuse to run as root.
 */
public final class ServiceUsers {
    /** The user of etcd and the search engine. */
    public static final String CHEF_BACKEND = "chef-backend";

    private ServiceUsers() {
    }

    /** Creates a system user and its group of the same name when missing (useradd --system, no home, no shell). */
    public static synchronized void ensureUser(String name) {
        if (exists(name)) {
            return;
        }
        run("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", name);
        if (!exists(name)) {
            throw new ServiceSetupException("could not create the service user " + name);
        }
    }

    public static boolean exists(String user) {
        try {
            lookup().lookupPrincipalByName(user);
            return true;
        } catch (UserPrincipalNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new ServiceSetupException("cannot look up user " + user + ": " + e.getMessage());
        }
    }

    /** Creates {@code dir} (and parents) if needed and makes {@code user} own it with the given mode ("rwx------"). */
    public static Path ownedDirectory(Path dir, String user, String mode) throws IOException {
        Files.createDirectories(dir);
        chown(dir, user);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    /** Gives a file or directory (not recursively) to {@code user} and its group. */
    public static void chown(Path path, String user) throws IOException {
        UserPrincipal owner = lookup().lookupPrincipalByName(user);
        GroupPrincipal group = lookup().lookupPrincipalByGroupName(user);
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setOwner(owner);
        view.setGroup(group);
    }

    /** Gives a whole tree to {@code user}; for directories the product created and fills itself. */
    public static void chownTree(Path root, String user) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                chown(p, user);
            }
        }
    }

    /**
     * Refuses to take over a directory that exists and belongs to another user: the operator must say so (it may
     * be another product's data).
     */
    public static void requireOwnedBy(Path dir, String user, String what) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
        if (!owner.equals(user) && !owner.equals("root")) {
            throw new ServiceSetupException(what + " " + dir + " is owned by user " + owner + ", not " + user
                    + "; move it away or chown it to " + user);
        }
    }

    /**
     * Writes a file owned by {@code user} with {@code mode} if its content differs (atomically, via a sibling),
     * and repairs owner and mode either way.
     *
     * @return whether the content changed
     */
    public static boolean writeOwned(Path file, byte[] content, String user, String mode) throws IOException {
        boolean changed = !Files.exists(file, LinkOption.NOFOLLOW_LINKS) || !Arrays.equals(Files.readAllBytes(file), content);
        if (changed) {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, content);
            chown(tmp, user);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
            chown(file, user);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        }
        return changed;
    }

    private static UserPrincipalLookupService lookup() {
        return FileSystems.getDefault().getUserPrincipalLookupService();
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new ServiceSetupException(String.join(" ", command) + " failed: " + out.replace('\n', ' '));
            }
        } catch (IOException e) {
            throw new ServiceSetupException(command[0] + " cannot run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceSetupException(command[0] + " interrupted");
        }
    }
}
