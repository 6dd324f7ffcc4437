package org.chefbackend.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** HTTP/1.1 as bytes on sockets, to send what no well-behaved client would. */
final class RawClient {
    static final String LEADER = "GET /leader HTTP/1.1\r\nHost: x\r\n\r\n";

    private RawClient() {
    }

    /** A reply: the status line and headers as they came, and the body. */
    record Reply(String head, String body) {
        int status() {
            return head.startsWith("HTTP/1.1 ") && head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : -1;
        }

        /** A header's value (the first), or null. */
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    /** Sends {@code request} on a new connection and reads the whole reply by {@code deadline} (System.nanoTime). */
    static Reply exchange(int port, String request, long deadline) throws IOException {
        try (Socket s = connect(port, deadline)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return read(s, deadline);
        }
    }

    static Socket connect(int port, long deadline) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), remainingMillis(deadline));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The next reply on {@code s}: head, then as many body bytes as Content-Length says. */
    static Reply read(Socket s, long deadline) throws IOException {
        s.setSoTimeout(remainingMillis(deadline));
        InputStream in = s.getInputStream();
        String head = readHead(in);
        int at = head.toLowerCase(Locale.ROOT).indexOf("\r\ncontent-length:");
        if (at < 0) {
            return new Reply(head, "");
        }
        int length = Integer.parseInt(head.substring(at + 17, head.indexOf('\r', at + 2)).trim());
        return new Reply(head, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }

    /** The status line and headers, up to the empty line (or what came before the end of the stream). */
    static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }

    /**
     * Asks {@code GET /leader} until a reply comes (a refused or reset connection is asked again) or 2 s pass;
     * returns the reply, or one with an empty head when none came.
     */
    static Reply pollLeader(int port) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        for (int attempt = 0; attempt < 1000 && System.nanoTime() < deadline; attempt++) {
            try {
                Reply r = exchange(port, LEADER, deadline);
                if (r.status() > 0) {
                    return r;
                }
            } catch (IOException e) {
                // refused, reset or timed out: ask again while time is left
            }
        }
        return new Reply("", "");
    }

    /** Opens {@code count} connections that each send {@code part} (perhaps nothing) and stay. */
    static List<Socket> openAll(int port, int count, String part) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            sockets.add(s);
            s.getOutputStream().write(part.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
        }
        return sockets;
    }

    static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** What a client streaming a body got: the reply (read while it sent) and how many body bytes it sent. */
    record Streamed(Reply reply, long sent) {
    }

    /**
     * Sends {@code head}, then {@code size} body bytes (as 64 KiB chunks when {@code chunked}) until the server
     * answers or stops taking them; the reply is read by a second thread from the first byte on, so that an answer
     * sent before the body (or in its middle) is seen even when the connection is reset after it.
     */
    static Streamed stream(int port, String head, long size, boolean chunked) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (Socket s = connect(port, deadline)) {
            s.setSoTimeout(30_000);
            CompletableFuture<Reply> reply = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    reply.complete(new Reply(readHead(s.getInputStream()), ""));
                } catch (IOException e) {
                    reply.complete(new Reply("", ""));
                }
            }, "reply-reader");
            reader.setDaemon(true);
            reader.start();
            OutputStream out = s.getOutputStream();
            long sent = 0;
            try {
                out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                byte[] block = new byte[64 * 1024];
                Arrays.fill(block, (byte) 'x');
                byte[] chunkHead = (Integer.toHexString(block.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                while (sent < size && !reply.isDone()) {
                    if (chunked) {
                        out.write(chunkHead);
                    }
                    out.write(block);
                    if (chunked) {
                        out.write(new byte[] {'\r', '\n'});
                    }
                    sent += block.length;
                }
                if (chunked && sent >= size) {
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
            } catch (IOException e) {
                // the server closed the connection: it took no more
            }
            return new Streamed(reply.get(30, TimeUnit.SECONDS), sent);
        }
    }

    /** Milliseconds until {@code deadline} (System.nanoTime), at least 1 (0 would mean no timeout). */
    static int remainingMillis(long deadline) {
        return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }
}
