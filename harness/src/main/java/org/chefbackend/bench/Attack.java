package org.chefbackend.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.chefbackend.bench.http.RawHttp;

/**
 * Hostile clients against one HTTP server while HAProxy's check of it is timed: idle connections, half-sent requests
 * and large unsigned bodies streamed to an admin path, each kept up for the whole window (what the server closes is
 * opened again, as a determined client would), while {@code GET /leader} is checked on a new connection at a fixed
 * rate, as HAProxy does. Every thread and socket ends with the window.
 */
public final class Attack {
    private static final byte[] HALF = RawHttp.HALF.getBytes(StandardCharsets.ISO_8859_1);
    private static final int CHUNK = 64 * 1024;
    /** How often connections the server closed are opened again (a closed one would otherwise spin). */
    private static final long REOPEN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private Attack() {
    }

    /**
     * @param idle connections that send nothing
     * @param halfSent connections that send a request line and part of the headers, then nothing
     * @param bodies POSTs to {@code adminPath} at once, each announcing and streaming {@code bodyBytes} unsigned (a
     *     new one starts when one ends)
     * @param length how long the attack lasts
     * @param checkEvery how often {@code GET /leader} is checked; {@code checkTimeout} how long a check may take
     */
    public record Plan(int idle, int halfSent, int bodies, long bodyBytes, String adminPath, Duration length,
            Duration checkEvery, Duration checkTimeout) {
        /** The hostile-input issue's case; the check as HAProxy's {@code inter 2s} (its timeout then is 2 s too). */
        public static Plan issue(Duration length) {
            return new Plan(200, 50, 3, 120L << 20, "/admin/start", length, Duration.ofMillis(100), Duration.ofSeconds(2));
        }
    }

    /**
     * One streamed body: the bytes sent before the server stopped taking them (or the window ended), and the status
     * the server answered, -1 for none; {@code cutByWindow} when the window ended before the server answered.
     */
    public record Body(long sent, long announced, int status, boolean cutByWindow) {
        boolean whole() {
            return sent == announced;
        }
    }

    /** Checks of {@code GET /leader}: each one's time in ms and status (-1: no complete reply in time). */
    public record Checks(List<Double> millis, List<Integer> statuses) {
        public LatencyStats stats() {
            return LatencyStats.of(millis, (int) statuses.stream().filter(s -> s != 200).count());
        }
    }

    /** What the attack saw: the checks, connections the server closed (each opened again), the bodies. */
    public record Outcome(Checks checks, int idleClosed, int halfClosed, int connectFailures, List<Body> bodies) {
    }

    /** {@code count} checks at the plan's rate, before any attack: the figure to compare with. */
    public static Checks checks(String host, int port, Plan plan, int count) throws InterruptedException {
        return checkUntil(host, port, plan, System.nanoTime() + count * plan.checkEvery().toNanos());
    }

    public static Outcome run(String host, int port, Plan plan) throws IOException, InterruptedException {
        InetSocketAddress address = new InetSocketAddress(host, port);
        long end = System.nanoTime() + plan.length().toNanos();
        Holder holder = new Holder(address, plan, end);
        List<BodySender> senders = new ArrayList<>();
        List<Thread> threads = new ArrayList<>(List.of(start(holder, "attack-connections")));
        for (int i = 0; i < plan.bodies(); i++) {
            BodySender s = new BodySender(address, plan, end);
            senders.add(s);
            threads.add(start(s, "attack-body-" + i));
        }
        Checks checks;
        try {
            checks = checkUntil(host, port, plan, end);
        } finally {
            holder.stop();
            senders.forEach(BodySender::stop);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
        List<Body> bodies = new ArrayList<>();
        senders.forEach(s -> bodies.addAll(s.bodies));
        int connectFailures = holder.connectFailures + senders.stream().mapToInt(s -> s.connectFailures.get()).sum();
        return new Outcome(checks, holder.idleClosed, holder.halfClosed, connectFailures, bodies);
    }

    /** Checks on new connections every {@code plan.checkEvery()} (right after a slow one) until {@code end}. */
    private static Checks checkUntil(String host, int port, Plan plan, long end) throws InterruptedException {
        List<Double> millis = new ArrayList<>();
        List<Integer> statuses = new ArrayList<>();
        int timeout = (int) plan.checkTimeout().toMillis();
        for (long next = System.nanoTime(); next < end; next = Math.max(next + plan.checkEvery().toNanos(),
                System.nanoTime())) {
            TimeUnit.NANOSECONDS.sleep(next - System.nanoTime()); // the check rate, not a wait for a condition
            long t0 = System.nanoTime();
            statuses.add(RawHttp.get(host, port, "/leader", timeout));
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        return new Checks(millis, statuses);
    }

    private static Thread start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * "12 started: 0 taken whole; 9 stopped by the server after 0.1 MiB median (max 0.2 MiB), answered 413 ×9; 3 still
     * open when the window ended (40.0 MiB sent, median)".
     */
    static String describe(List<Body> bodies) {
        List<Body> whole = bodies.stream().filter(b -> b.whole() && !b.cutByWindow()).toList();
        List<Body> stopped = bodies.stream().filter(b -> !b.whole() && !b.cutByWindow()).toList();
        List<Body> open = bodies.stream().filter(Body::cutByWindow).toList();
        StringBuilder sb = new StringBuilder(bodies.size() + " started: " + whole.size() + " taken whole");
        if (!whole.isEmpty()) {
            sb.append(", answered ").append(tally(whole));
        }
        if (!stopped.isEmpty()) {
            Stats s = Stats.of(stopped.stream().map(b -> b.sent() / 1048576.0).toList());
            sb.append("; ").append(stopped.size()).append(" stopped by the server after ")
                    .append(String.format(Locale.ROOT, "%.1f MiB median (max %.1f MiB)", s.median(), s.max()))
                    .append(", answered ").append(tally(stopped));
        }
        if (!open.isEmpty()) {
            Stats s = Stats.of(open.stream().map(b -> b.sent() / 1048576.0).toList());
            sb.append("; ").append(open.size()).append(" still open when the window ended (")
                    .append(String.format(Locale.ROOT, "%.1f MiB sent, median", s.median())).append(')');
        }
        return sb.toString();
    }

    /** "401 ×3, none ×1" */
    private static String tally(List<Body> bodies) {
        Map<Integer, Long> counts = new TreeMap<>(bodies.stream().collect(
                Collectors.groupingBy(Body::status, Collectors.counting())));
        return counts.entrySet().stream().map(e -> (e.getKey() < 0 ? "none" : String.valueOf(e.getKey())) + " ×"
                + e.getValue()).collect(Collectors.joining(", "));
    }

    /** Holds the idle and half-sent connections on one selector thread, opening again what the server closes. */
    private static final class Holder implements Runnable {
        private static final Object IDLE = "idle";
        private static final Object HALF_SENT = "half-sent";
        private final InetSocketAddress address;
        private final long end;
        private final Selector selector;
        private volatile boolean stopped;
        private int idleWanted;
        private int halfWanted;
        int idleClosed;
        int halfClosed;
        int connectFailures;

        Holder(InetSocketAddress address, Plan plan, long end) throws IOException {
            this.address = address;
            this.end = end;
            this.selector = Selector.open();
            this.idleWanted = plan.idle();
            this.halfWanted = plan.halfSent();
        }

        void stop() {
            stopped = true;
            selector.wakeup();
        }

        @Override
        public void run() {
            ByteBuffer sink = ByteBuffer.allocate(4096);
            long nextOpen = 0;
            try {
                while (!stopped && System.nanoTime() < end) {
                    if (System.nanoTime() >= nextOpen) {
                        openWanted();
                        nextOpen = System.nanoTime() + REOPEN_NANOS;
                    }
                    selector.select(100);
                    for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey key = it.next();
                        it.remove();
                        serve(key, sink);
                    }
                }
            } catch (IOException e) {
                System.err.println("attack: the connection holder stopped: " + e.getMessage());
            } finally {
                for (SelectionKey key : selector.keys()) {
                    closeQuietly((SocketChannel) key.channel());
                }
                try {
                    selector.close();
                } catch (IOException e) {
                    // closed either way
                }
            }
        }

        private void serve(SelectionKey key, ByteBuffer sink) {
            SocketChannel channel = (SocketChannel) key.channel();
            boolean connecting = (key.interestOps() & SelectionKey.OP_CONNECT) != 0;
            try {
                if (connecting && key.isConnectable()) {
                    if (channel.finishConnect()) {
                        connected(key);
                    }
                } else if (key.isReadable()) {
                    sink.clear();
                    if (channel.read(sink) < 0) { // the server closed it (what it said before does not matter)
                        lost(key, false);
                    }
                }
            } catch (IOException e) {
                lost(key, connecting);
            }
        }

        private void connected(SelectionKey key) throws IOException {
            if (key.attachment() == HALF_SENT) {
                ((SocketChannel) key.channel()).write(ByteBuffer.wrap(HALF)); // a few dozen bytes: out at once
            }
            key.interestOps(SelectionKey.OP_READ);
        }

        private void lost(SelectionKey key, boolean neverConnected) {
            key.cancel();
            closeQuietly((SocketChannel) key.channel());
            boolean half = key.attachment() == HALF_SENT;
            if (neverConnected) {
                connectFailures++;
            } else if (half) {
                halfClosed++;
            } else {
                idleClosed++;
            }
            if (half) {
                halfWanted++;
            } else {
                idleWanted++;
            }
        }

        private void openWanted() {
            int idle = idleWanted;
            int half = halfWanted;
            idleWanted = 0;
            halfWanted = 0;
            for (int i = 0; i < idle + half; i++) {
                Object kind = i < idle ? IDLE : HALF_SENT;
                SocketChannel channel = null;
                try {
                    channel = SocketChannel.open();
                    channel.configureBlocking(false);
                    boolean done = channel.connect(address);
                    SelectionKey key = channel.register(selector, done ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT,
                            kind);
                    if (done) {
                        connected(key);
                    }
                } catch (IOException e) {
                    closeQuietly(channel);
                    connectFailures++;
                    if (kind == HALF_SENT) {
                        halfWanted++;
                    } else {
                        idleWanted++;
                    }
                }
            }
        }

        private static void closeQuietly(SocketChannel channel) {
            if (channel == null) {
                return;
            }
            try {
                channel.close();
            } catch (IOException e) {
                // closed either way
            }
        }
    }

    /** Streams one unsigned body after another to the admin path, as fast as the server takes them. */
    private static final class BodySender implements Runnable {
        private final InetSocketAddress address;
        private final Plan plan;
        private final long end;
        private final byte[] head;
        final List<Body> bodies = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connectFailures = new AtomicInteger();
        private volatile boolean stopped;
        private volatile Socket current;

        BodySender(InetSocketAddress address, Plan plan, long end) {
            this.address = address;
            this.plan = plan;
            this.end = end;
            this.head = ("POST " + plan.adminPath() + " HTTP/1.1\r\nHost: " + address.getHostString() + ":"
                    + address.getPort() + "\r\nContent-Type: application/json\r\nContent-Length: " + plan.bodyBytes()
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        }

        /** Ends the body in flight too: a write blocked on a server that stopped reading fails at once. */
        void stop() {
            stopped = true;
            Socket s = current;
            if (s != null) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closed either way
                }
            }
        }

        private boolean over() {
            return stopped || System.nanoTime() >= end;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[CHUNK];
            Arrays.fill(chunk, (byte) 'a');
            while (!over()) {
                try (Socket s = new Socket()) {
                    current = s;
                    if (stopped) {
                        return; // stop() came before this socket was current
                    }
                    s.connect(address, (int) plan.checkTimeout().toMillis());
                    bodies.add(send(s, chunk));
                    pause(); // the next body: a refused one is a body, not a flood of requests
                } catch (IOException e) {
                    if (over()) {
                        return;
                    }
                    connectFailures.incrementAndGet();
                    pause();
                }
            }
        }

        /** Sends one body until it is all out, the server answers or closes, or the window ends. */
        private Body send(Socket s, byte[] chunk) throws IOException {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long sent = 0;
            int status = -1;
            try {
                out.write(head);
                while (sent < plan.bodyBytes() && !over()) {
                    if (in.available() > 0) { // answered early (a refusal): a client reads it and stops
                        status = statusLine(s, in);
                        break;
                    }
                    int n = (int) Math.min(chunk.length, plan.bodyBytes() - sent);
                    out.write(chunk, 0, n);
                    sent += n;
                }
            } catch (IOException e) {
                // the server stopped taking it, or stop() closed it; what it answered may still be readable
            }
            if (status < 0 && !stopped) {
                status = statusLine(s, in);
            }
            // no answer because the window ended (while sending, or waiting for the answer), not the server
            return new Body(sent, plan.bodyBytes(), status, status < 0 && over());
        }

        /** The status of the reply's first line, -1 when none comes within the check timeout. */
        private int statusLine(Socket s, InputStream in) {
            try {
                s.setSoTimeout((int) plan.checkTimeout().toMillis());
                StringBuilder line = new StringBuilder();
                for (int c = in.read(); c >= 0 && c != '\n' && line.length() < 200; c = in.read()) {
                    line.append((char) c);
                }
                String l = line.toString();
                return l.startsWith("HTTP/") && l.length() >= 12 ? Integer.parseInt(l.substring(9, 12)) : -1;
            } catch (IOException | NumberFormatException e) {
                return -1;
            }
        }

        private void pause() {
            try {
                Thread.sleep(100); // the rate at which a refused connection or body is tried again, not a spin
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
            }
        }
    }
}
