package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @TempDir
    Path tmp;

    @Test
    void deletesNestedDirectoriesAndFiles() throws IOException {
        Path root = tree(tmp.resolve("root"));
        FileTrees.deleteTree(root);
        assertFalse(Files.exists(root, LinkOption.NOFOLLOW_LINKS));
        assertEquals(List.of(), list(tmp));
    }

    @Test
    void deletesLinksButNotWhatTheyPointTo() throws IOException {
        Path outside = tree(tmp.resolve("outside"));
        List<Path> outsideBefore = list(outside);
        Path outsideFile = Files.writeString(tmp.resolve("outside-file"), "keep");
        Path root = tree(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("a/to-dir"), outside);
        Files.createSymbolicLink(root.resolve("a/b/to-file"), outsideFile);
        Files.createSymbolicLink(root.resolve("dangling"), tmp.resolve("nothing"));
        FileTrees.deleteTree(root);
        assertFalse(Files.exists(root, LinkOption.NOFOLLOW_LINKS));
        assertEquals(outsideBefore, list(outside));
        assertEquals("keep", Files.readString(outsideFile));
    }

    @Test
    void aRootThatIsALinkGoesAloneNotItsTarget() throws IOException {
        Path target = tree(tmp.resolve("target"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
        FileTrees.deleteTree(link);
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isRegularFile(target.resolve("a/b/c.txt")));
    }

    @Test
    void aMissingPathIsFine() throws IOException {
        FileTrees.deleteTree(tmp.resolve("missing"));
        FileTrees.emptyDirectory(tmp.resolve("missing"));
        assertEquals(List.of(), list(tmp));
    }

    @Test
    void deletesASingleFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        FileTrees.deleteTree(file);
        assertFalse(Files.exists(file));
    }

    @Test
    void emptyingKeepsTheDirectoryAndItsMode() throws IOException {
        Path outside = tree(tmp.resolve("outside"));
        Path dir = tree(tmp.resolve("data"));
        Files.createSymbolicLink(dir.resolve("to-outside"), outside);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        FileTrees.emptyDirectory(dir);
        assertTrue(Files.isDirectory(dir));
        assertEquals(List.of(), list(dir));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertTrue(Files.isRegularFile(outside.resolve("a/b/c.txt")));
    }

    /** root/a/b/c.txt, root/a/d.txt, root/e/ (empty), root/f.txt */
    static Path tree(Path root) throws IOException {
        Files.createDirectories(root.resolve("a/b"));
        Files.createDirectories(root.resolve("e"));
        Files.writeString(root.resolve("a/b/c.txt"), "c");
        Files.writeString(root.resolve("a/d.txt"), "d");
        Files.writeString(root.resolve("f.txt"), "f");
        return root;
    }

    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> !p.equals(dir)).sorted().toList();
        }
    }
}
