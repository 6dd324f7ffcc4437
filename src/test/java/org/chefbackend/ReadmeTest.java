package org.chefbackend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CI must run exactly the test command README.md gives operators and contributors. */
class ReadmeTest {
    @Test
    void ciRunsReadmesTestCommand() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Run the tests");
        assertTrue(section >= 0, "README.md has no 'Run the tests' section");
        int start = readme.indexOf("```sh\n", section) + "```sh\n".length();
        String command = readme.substring(start, readme.indexOf('\n', start)).trim();
        List<String> ci = Files.readAllLines(Path.of(".ci/run"));
        assertTrue(ci.contains(command), ".ci/run does not run README's test command: " + command);
    }
}
