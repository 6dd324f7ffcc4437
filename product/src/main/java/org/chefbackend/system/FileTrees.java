package org.chefbackend.system;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Deleting whole directory trees. Symbolic links are deleted themselves, never followed: a link inside a data
 * directory must not take another directory's contents with it.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and everything under it; a missing {@code root} is fine. */
    public static void deleteTree(Path root) throws IOException {
        delete(root, true);
    }

    /** Deletes everything inside {@code dir} but keeps the directory itself (its owner and mode); a missing one is fine. */
    public static void emptyDirectory(Path dir) throws IOException {
        delete(dir, false);
    }

    private static void delete(Path root, boolean withRoot) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (withRoot || !file.equals(root)) {
                    Files.deleteIfExists(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // deleted meanwhile: what we wanted anyway
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                if (withRoot || !dir.equals(root)) {
                    Files.deleteIfExists(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
