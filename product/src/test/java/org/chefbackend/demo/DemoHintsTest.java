package org.chefbackend.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.chefbackend.system.CtlCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command {@code demo up} prints runs when pasted into a shell, from any directory. */
class DemoHintsTest {
    @TempDir
    Path tmp;

    @Test
    void everyPrintedCtlCommandRunsAsPastedFromAnotherDirectory() throws Exception {
        // a stand-in chef-backend-ctl that records how it was called; a space and a quote in its path must survive
        Path bin = Files.createDirectories(tmp.resolve("it's a clone/bin"));
        Path ctl = bin.resolve("chef-backend-ctl");
        Path calls = tmp.resolve("calls");
        Files.writeString(ctl, "#!/bin/sh\necho \"${CHEF_BACKEND_ROOT:-unset}|$*\" >> '" + calls + "'\n");
        Files.setPosixFilePermissions(ctl, PosixFilePermissions.fromString("rwx------"));
        Path dir = tmp.resolve("demo dir");
        Path node1 = dir.resolve("node1");
        Demo.Options o = new Demo.Options(dir, Demo.DEFAULT_ADDRESSES, "127.0.0.1", 15432, 19200, List.of());

        List<String> printed = Demo.howToConnect(o, dir, node1, "guid-1", "secret", CtlCommand.quote(ctl.toString()));
        List<String> commands = printed.stream().filter(l -> l.startsWith("    ")).map(String::strip).toList();
        assertEquals(6, commands.size(), String.join("\n", printed));
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        for (String command : commands) {
            if (command.startsWith("PGPASSWORD=") || command.startsWith("curl ")) {
                assertEquals(0, sh(elsewhere, "-n", "-c", command), "does not parse: " + command);
                continue;
            }
            assertEquals(0, sh(elsewhere, "-c", command), "does not run as pasted: " + command);
        }
        assertEquals(List.of(node1 + "|gen-server-config frontend.example.com", node1 + "|status",
                "unset|demo status --dir " + dir, "unset|demo down --dir " + dir), Files.readAllLines(calls));
    }

    @Test
    void theDefaultDemoNeedsNoDirAndAPlainPathNoQuotes() {
        Demo.Options o = new Demo.Options(Demo.DEFAULT_DIR, Demo.DEFAULT_ADDRESSES, "127.0.0.1", 15432, 19200,
                List.of());
        List<String> printed = Demo.howToConnect(o, Demo.DEFAULT_DIR, Demo.DEFAULT_DIR.resolve("node1"), "g", "pw",
                CtlCommand.quote("/home/me/chef-backend/bin/chef-backend-ctl"));
        assertTrue(printed.contains("    CHEF_BACKEND_ROOT=/tmp/chef-backend-demo/node1 "
                + "/home/me/chef-backend/bin/chef-backend-ctl status"), String.join("\n", printed));
        assertTrue(printed.contains("    /home/me/chef-backend/bin/chef-backend-ctl demo down"), String.join("\n", printed));
        assertTrue(printed.contains("    PGPASSWORD=pw psql -h 127.0.0.1 -p 15432 -U chef_pgsql -d postgres"));
    }

    private static int sh(Path cwd, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("sh"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "sh did not finish: " + cmd);
        return p.exitValue();
    }
}
