package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingLogTest {
    @TempDir
    Path tmp;

    /** Every file of the log, oldest first, the live one last. */
    static List<Path> allFiles(RotatingLog log) throws IOException {
        List<Path> files = new ArrayList<>(log.rotatedFiles());
        files.add(log.current());
        return files;
    }

    static List<String> lines(List<Path> files) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            out.addAll(Files.readAllLines(f));
        }
        return out;
    }

    @Test
    void rotatesBeforeALineWouldPassTheLimit() throws IOException {
        Path dir = tmp.resolve("nested/log"); // created on open
        try (RotatingLog log = new RotatingLog(dir, 100, 1000)) {
            for (int i = 0; i < 200; i++) {
                log.writeLine("line " + i + " " + "x".repeat(i % 37)); // 8..50 bytes each
            }
            List<Path> files = allFiles(log);
            assertTrue(files.size() > 10);
            for (Path f : files) {
                assertTrue(Files.size(f) <= 100, f + " is " + Files.size(f) + " bytes");
            }
            // rotated only when the next line did not fit: each rotated file plus the following line exceeds 100
            List<Path> rotated = log.rotatedFiles();
            for (int i = 0; i < rotated.size(); i++) {
                String next = Files.readAllLines(i + 1 < rotated.size() ? rotated.get(i + 1) : log.current()).get(0);
                assertTrue(Files.size(rotated.get(i)) + next.length() + 1 > 100);
            }
            assertEquals(200, lines(files).size());
            assertTrue(Pattern.matches("@\\d{8}T\\d{6}\\.\\d{6}Z\\.s", rotated.get(0).getFileName().toString()));
        }
    }

    @Test
    void aLineLongerThanTheLimitGetsAFileOfItsOwn() throws IOException {
        try (RotatingLog log = new RotatingLog(tmp, 50, 10)) {
            log.writeLine("before");
            log.writeLine("L".repeat(120));
            log.writeLine("after");
            List<Path> rotated = log.rotatedFiles();
            assertEquals(2, rotated.size());
            assertEquals(List.of("before"), Files.readAllLines(rotated.get(0)));
            assertEquals(List.of("L".repeat(120)), Files.readAllLines(rotated.get(1)));
            assertEquals(List.of("after"), Files.readAllLines(log.current()));
        }
    }

    @Test
    void keepsOnlyTheNewestRotatedFilesAndLosesNoLineAmongThem() throws IOException {
        try (RotatingLog log = new RotatingLog(tmp, 100, 3)) {
            int counter = 0;
            // 10 lines of 10 bytes fill a file exactly; 10 rotations need 101 files' worth of lines + 1
            for (; counter < 10 * 10 + 1; counter++) {
                log.writeLine(String.format("%09d", counter));
            }
            List<Path> rotated = log.rotatedFiles();
            assertEquals(3, rotated.size());
            assertEquals(100, Files.size(rotated.get(0)));
            List<String> kept = lines(allFiles(log));
            // the newest lines, contiguous up to the last one written
            assertEquals(31, kept.size());
            for (int i = 0; i < kept.size(); i++) {
                assertEquals(counter - kept.size() + i, Integer.parseInt(kept.get(i)));
            }
        }
    }

    @Test
    void appendsToAnExistingCurrentAndCountsItsSize() throws IOException {
        Files.writeString(tmp.resolve("current"), "x".repeat(90) + "\n");
        try (RotatingLog log = new RotatingLog(tmp, 100, 3)) {
            log.writeLine("123456789"); // 91 + 10 > 100
            assertEquals(1, log.rotatedFiles().size());
            assertEquals(List.of("123456789"), Files.readAllLines(log.current()));
        }
    }

    @Test
    void writesAfterCloseFail() throws IOException {
        RotatingLog log = new RotatingLog(tmp, 100, 3);
        log.close();
        assertThrows(IOException.class, () -> log.writeLine("late"));
    }

    @Test
    void concurrentWritersNeverInterleaveWithinALine() throws Exception {
        int threads = 8;
        int perThread = 2000;
        try (RotatingLog log = new RotatingLog(tmp, 64 * 1024, 1000)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < perThread; i++) {
                            String payload = Character.toString('a' + id).repeat(20 + i % 50);
                            log.writeLine(id + ":" + i + ":" + payload);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                w.start();
                writers.add(w);
            }
            go.countDown();
            for (Thread w : writers) {
                w.join();
            }
            List<String> all = lines(allFiles(log));
            assertEquals(threads * perThread, all.size());
            Set<String> seen = new HashSet<>();
            for (String line : all) {
                String[] parts = line.split(":");
                int id = Integer.parseInt(parts[0]);
                int i = Integer.parseInt(parts[1]);
                assertEquals(Character.toString('a' + id).repeat(20 + i % 50), parts[2], line);
                assertTrue(seen.add(id + ":" + i));
            }
        }
    }

    @Test
    void pumpCopiesAProcesssOutputLineByLine() throws Exception {
        try (RotatingLog log = new RotatingLog(tmp, 30, 100)) {
            Process p = new ProcessBuilder("printf", "one\\ntwo\\n%s\\nno newline at the end", "x".repeat(40))
                    .redirectErrorStream(true).start();
            Thread pump = RotatingLog.pump(p.getInputStream(), log, "pump-printf");
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            pump.join(10_000);
            assertFalse(pump.isAlive());
            assertTrue(pump.isDaemon());
            List<String> all = lines(allFiles(log));
            assertEquals(List.of("one", "two", "x".repeat(40), "no newline at the end"), all);
            // the 41-byte line was rotated into a file of its own
            assertTrue(log.rotatedFiles().stream().anyMatch(f -> {
                try {
                    return Files.readString(f).equals("x".repeat(40) + "\n");
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
    }

    /** etcd logs its configuration, the initial cluster token among it, at every start. */
    @Test
    void pumpMasksSecretsAndLeavesEveryOtherByteAlone() throws Exception {
        String token = "6f1d0c2a9b8e7d6c5b4a39281706f5e4";
        byte[] output = ("{\"initial-cluster-token\":\"" + token + "\"}\n"
                + "ETCD_INITIAL_CLUSTER_TOKEN=" + token + " and again " + token + "\n"
                + "not UTF-8: \u00ff").getBytes(StandardCharsets.ISO_8859_1); // a lone 0xff byte at the end
        try (RotatingLog log = new RotatingLog(tmp, 1024, 3)) {
            Thread pump = RotatingLog.pump(new ByteArrayInputStream(output), log, "pump-secret",
                    Redaction.of(List.of(token, "")));
            pump.join(10_000);
            byte[] written = Files.readAllBytes(log.current());
            assertFalse(new String(written, StandardCharsets.ISO_8859_1).contains(token));
            byte[] expected = ("{\"initial-cluster-token\":\"<redacted>\"}\n"
                    + "ETCD_INITIAL_CLUSTER_TOKEN=<redacted> and again <redacted>\n"
                    + "not UTF-8: \u00ff\n").getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(expected, written);
        }
    }

    @Test
    void pumpBreaksEndlessLinesSoMemoryStaysBounded() throws Exception {
        try (RotatingLog log = new RotatingLog(tmp, 10L * 1024 * 1024, 3)) {
            byte[] big = new byte[RotatingLog.PUMP_MAX_LINE * 2 + 10];
            Arrays.fill(big, (byte) 'y');
            Thread pump = RotatingLog.pump(new ByteArrayInputStream(big), log, "pump-big");
            pump.join(10_000);
            List<String> all = Files.readAllLines(log.current());
            assertEquals(List.of(RotatingLog.PUMP_MAX_LINE, RotatingLog.PUMP_MAX_LINE, 10),
                    all.stream().map(String::length).toList());
        }
    }

    @Test
    void appenderWritesFormattedEventsIntoTheRotatingLog() throws IOException {
        LoggerContext context = new LoggerContext(); // private context: the test must not reroute the build's logging
        RotatingLogAppender appender = new RotatingLogAppender();
        appender.setContext(context);
        appender.setDirectory(tmp.resolve("agent").toString());
        appender.setMaxBytes(200);
        appender.setNumToKeep(2);
        appender.start();
        assertTrue(appender.isStarted());
        Logger logger = context.getLogger("org.chefbackend.agent.Example");
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
        for (int i = 0; i < 20; i++) {
            logger.info("event {}", i);
        }
        logger.warn("failed", new IllegalStateException("boom"));
        appender.stop();

        Path dir = tmp.resolve("agent");
        String current = Files.readString(dir.resolve("current"));
        // one record with its stack trace: larger than 200 bytes, so alone in its file
        assertTrue(Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} WARN  \\[[^]]+\\] Example - failed\n"
                + "java.lang.IllegalStateException: boom\n", Pattern.DOTALL).matcher(current).find(), current);
        try (var rotated = Files.list(dir)) {
            assertEquals(2, rotated.filter(f -> f.getFileName().toString().startsWith("@")).count());
        }
    }
}
