package org.chefbackend.recovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.chefbackend.system.FileTrees;

/** Moving directory trees. */
final class Trees {
    private Trees() {
    }

    /** Moves {@code from} to {@code to} (which must not exist): a rename, or a copy across file systems. */
    static void move(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Processes.run(List.of("cp", "-a", from.toString(), to.toString()), to.getParent(),
                    Map.of(), null, System.nanoTime() + TimeUnit.HOURS.toNanos(6), l -> { });
            FileTrees.deleteTree(from);
        }
    }
}
