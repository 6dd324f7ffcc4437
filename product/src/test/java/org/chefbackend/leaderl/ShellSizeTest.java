package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The HA loop's shell stays in parts a reader can hold at once: no class of this package over 300 lines, except the
 * pure core and its data ({@link Decision}, {@link Facts}), which are read as tables, row by row.
 */
class ShellSizeTest {
    static final int MAX_LINES = 300;
    static final Set<String> PURE = Set.of("Decision.java", "Facts.java");

    @Test
    void noShellClassOverThreeHundredLines() throws IOException {
        Path dir = Path.of("src/main/java/org/chefbackend/leaderl");
        Map<String, Long> over = new TreeMap<>();
        int seen = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                seen++;
                long lines;
                try (Stream<String> s = Files.lines(f)) {
                    lines = s.count();
                }
                if (lines > MAX_LINES && !PURE.contains(f.getFileName().toString())) {
                    over.put(f.getFileName().toString(), lines);
                }
            }
        }
        assertTrue(seen > 10, "too few classes found in " + dir.toAbsolutePath());
        assertEquals(Map.of(), over, "HA loop shell classes over " + MAX_LINES + " lines");
    }
}
