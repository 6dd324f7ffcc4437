package org.chefbackend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CI must run exactly the test command README.md gives operators and contributors. */
class ReadmeTest {
    /** The checkout's root (set by the build; the module's directory is one below it). */
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath().normalize();

    /** A fresh machine gets what the tests need first: install-deps --test, not the bare build-and-run set. */
    @Test
    void ciRunsReadmesTestCommand() throws IOException {
        String readme = Files.readString(REPO.resolve("README.md"));
        int section = readme.indexOf("## Run the tests");
        assertTrue(section >= 0, "README.md has no 'Run the tests' section");
        // a console block: the command is for a shell on the build machine, after its prompt
        int start = readme.indexOf("```console\n$ ", section) + "```console\n$ ".length();
        String command = readme.substring(start, readme.indexOf('\n', start)).trim();
        assertEquals("bin/install-deps --test && mvn -B verify", command, "README's test command");
        List<String> ci = Files.readAllLines(REPO.resolve(".ci/run"));
        assertTrue(ci.contains(command), ".ci/run does not run README's test command: " + command);
    }

    /** README's first command is the demo: the script it names exists, is executable and runs the demo command. */
    @Test
    void quickStartRunsTheDemo() throws IOException {
        String readme = Files.readString(REPO.resolve("README.md"));
        int start = readme.indexOf("```sh\n") + "```sh\n".length();
        String first = readme.substring(start, readme.indexOf('\n', start)).trim();
        assertTrue(first.equals("bin/install-deps && bin/demo up"), "README's first command: " + first);
        Path demo = REPO.resolve("bin/demo");
        assertTrue(Files.isExecutable(demo), "bin/demo is not executable");
        assertTrue(Files.readString(demo).contains("bin/chef-backend-ctl\" demo \"$@\""), "bin/demo does not run the demo command");
    }
}
