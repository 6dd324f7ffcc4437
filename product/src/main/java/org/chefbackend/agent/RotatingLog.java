package org.chefbackend.agent;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A service's log as runit's svlogd kept it: the live file {@code <directory>/current}, renamed to
 * {@code @<UTC timestamp>.s} before a line would take it past {@code maxBytes}, with at most {@code numToKeep}
 * rotated files kept. A line is never split across files; a line longer than {@code maxBytes} gets a file of its
 * own. Thread-safe: every line is one write, so concurrent writers never interleave within a line.
 */
public final class RotatingLog implements Closeable {
    /** The longest line {@link #pump} buffers; a child printing endless bytes without a newline must not exhaust memory. */
    static final int PUMP_MAX_LINE = 1024 * 1024;
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final Path directory;
    private final Path current;
    private final long maxBytes;
    private final int numToKeep;
    private FileChannel channel; // null until opened, or after a failure so the next write retries
    private long size;
    private Instant lastStamp = Instant.EPOCH;
    private boolean closed;

    /** Opens (creating it and its directory if needed) {@code directory/current}, appending to what is there. */
    public RotatingLog(Path directory, long maxBytes, int numToKeep) throws IOException {
        if (maxBytes < 1 || numToKeep < 1) {
            throw new IllegalArgumentException("maxBytes and numToKeep must be positive");
        }
        this.directory = directory;
        this.current = directory.resolve("current");
        this.maxBytes = maxBytes;
        this.numToKeep = numToKeep;
        open();
    }

    /** The log of a service as chef-backend.rb configures it ({@code <service>.log_directory}, {@code .log_rotation.*}). */
    public static RotatingLog forService(NodeContext node, String service) throws IOException {
        return new RotatingLog(node.logDirectory(service),
                node.settings().integer(service + ".log_rotation.file_maxbytes"),
                node.settings().intValue(service + ".log_rotation.num_to_keep"));
    }

    public Path directory() {
        return directory;
    }

    public Path current() {
        return current;
    }

    /** Appends one line (a newline is added unless it ends with one), rotating first if it would not fit. */
    public synchronized void write(byte[] line) throws IOException {
        if (closed) {
            throw new IOException("log " + current + " is closed");
        }
        byte[] bytes = line;
        if (line.length == 0 || line[line.length - 1] != '\n') {
            bytes = new byte[line.length + 1];
            System.arraycopy(line, 0, bytes, 0, line.length);
            bytes[line.length] = '\n';
        }
        try {
            if (channel == null) {
                open();
            }
            if (size > 0 && size + bytes.length > maxBytes) {
                rotate();
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            size += bytes.length;
        } catch (IOException e) {
            closeChannel(); // e.g. the directory was removed: reopen (and recreate it) on the next write
            throw e;
        }
    }

    public void writeLine(String line) throws IOException {
        write(line.getBytes(StandardCharsets.UTF_8));
    }

    /** Idempotent; every line written is already in the file, so there is nothing a failure here could lose. */
    @Override
    public synchronized void close() {
        closed = true;
        closeChannel();
    }

    /** Rotated files, oldest first. */
    public synchronized List<Path> rotatedFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(directory, "@*.s")) {
            dir.forEach(files::add);
        }
        Collections.sort(files); // fixed-width UTC timestamps sort chronologically
        return files;
    }

    /**
     * Copies {@code in} line by line into {@code log} on a daemon thread until EOF (a child process's stdout or
     * stderr). It keeps reading when the log cannot be written (disk full), so the child never blocks on a full
     * pipe; it does not close the log, which the process's other stream may share.
     */
    public static Thread pump(InputStream in, RotatingLog log, String threadName) {
        return pump(in, log, threadName, Redaction.NONE);
    }

    /** As {@link #pump(InputStream, RotatingLog, String)}, each line through {@code redaction} first. */
    public static Thread pump(InputStream in, RotatingLog log, String threadName, Redaction redaction) {
        Thread t = new Thread(() -> {
            boolean reported = false;
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) != -1) {
                    int start = 0;
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n' || line.size() + (i - start) >= PUMP_MAX_LINE) {
                            int end = buf[i] == '\n' ? i + 1 : i;
                            line.write(buf, start, end - start);
                            reported = emit(log, line, redaction, reported, threadName);
                            start = end;
                        }
                    }
                    line.write(buf, start, n - start);
                }
            } catch (IOException e) {
                // the stream was closed under us: the process is gone
            }
            if (line.size() > 0) {
                emit(log, line, redaction, reported, threadName);
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static boolean emit(RotatingLog log, ByteArrayOutputStream line, Redaction redaction, boolean reported,
            String threadName) {
        try {
            log.write(redaction.apply(line.toByteArray()));
        } catch (IOException e) {
            if (!reported) { // once per pump: the agent's own log may be the one failing
                System.err.println(threadName + ": cannot write " + log.current() + ": " + e.getMessage());
            }
            reported = true;
        }
        line.reset();
        return reported;
    }

    private void open() throws IOException {
        Files.createDirectories(directory);
        channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        size = channel.size();
    }

    private void rotate() throws IOException {
        channel.force(false); // the rotated file is complete on disk, as svlogd guarantees
        closeChannel();
        Files.move(current, nextRotatedName(), StandardCopyOption.ATOMIC_MOVE);
        List<Path> rotated = rotatedFiles();
        for (int i = 0; i < rotated.size() - numToKeep; i++) {
            Files.deleteIfExists(rotated.get(i));
        }
        open();
    }

    /** Strictly increasing, so two rotations in one microsecond (or a clock step back) never collide. */
    private Path nextRotatedName() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Path target;
        do {
            if (!now.isAfter(lastStamp)) {
                now = lastStamp.plus(1, ChronoUnit.MICROS);
            }
            lastStamp = now;
            target = directory.resolve("@" + STAMP.format(now) + ".s");
        } while (Files.exists(target));
        return target;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to lose
            }
            channel = null;
        }
    }
}
