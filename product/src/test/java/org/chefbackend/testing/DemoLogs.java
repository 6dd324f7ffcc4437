package org.chefbackend.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.chefbackend.system.FileTrees;

/** A failed demo test's evidence: the nodes' logs, copied where `demo down` does not remove them. */
public final class DemoLogs {
    private DemoLogs() {
    }

    /** Copies node1..node3's var/log/chef-backend under {@code demoDir} to {@code target}, replacing what it held. */
    public static void keep(Path demoDir, Path target) throws IOException, InterruptedException {
        FileTrees.deleteTree(target);
        Files.createDirectories(target);
        for (int i = 1; i <= 3; i++) {
            Path logs = demoDir.resolve("node" + i + "/var/log/chef-backend");
            if (Files.isDirectory(logs)) {
                new ProcessBuilder("cp", "-r", logs.toString(), target.resolve("node" + i).toString()).start()
                        .waitFor(60, TimeUnit.SECONDS);
            }
        }
        System.out.println("the nodes' logs are kept in " + target);
    }
}
