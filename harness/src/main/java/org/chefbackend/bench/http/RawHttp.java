package org.chefbackend.bench.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** HAProxy's check as bytes on a socket, and clients that send half a request and stay. */
public final class RawHttp {
    static final String CHECK = "GET /leader HTTP/1.1\r\nHost: localhost:7331\r\n\r\n";
    public static final String HALF = "GET /leader HTTP/1.1\r\nHost: x\r\n";
    /** Complete headers, then 1 byte of the 1000 announced. */
    static final String HALF_BODY = "POST /admin/start HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{";

    /** 120 MB, as the hostile-input issue's POSTs. */
    static final long HUGE = 120L << 20;
    static final String HUGE_HEAD = "POST /admin/start HTTP/1.1\r\nHost: x\r\nContent-Length: " + HUGE + "\r\n\r\n";

    private RawHttp() {
    }

    /**
     * Sends {@code head}, then body bytes on {@code s} until {@code size} are sent, the server closes the
     * connection or its reply arrives (or another thread closes {@code s}); returns how many were sent.
     */
    static long stream(Socket s, String head, long size) {
        long sent = 0;
        try {
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            byte[] block = new byte[64 * 1024];
            while (sent < size && s.getInputStream().available() == 0) {
                out.write(block);
                sent += block.length;
            }
        } catch (IOException e) {
            // closed: by the server, which took no more, or by the probe, whose time was up
        }
        return sent;
    }

    /**
     * One check on a new connection, as HAProxy does: returns the status code, or -1 when no complete reply came
     * within {@code timeoutMillis} (or the server closed the connection first).
     */
    static int check(int port, int timeoutMillis) {
        return exchange(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), CHECK, timeoutMillis);
    }

    /**
     * {@code GET path} on a new connection that asks to be closed after the reply: the status code once the whole
     * reply is in (by its Content-Length, or the server's close when it sends none, as Patroni's HTTP/1.0 server
     * does), or -1 when that did not happen within {@code timeoutMillis}.
     */
    public static int get(String host, int port, String path, int timeoutMillis) {
        return exchange(new InetSocketAddress(host, port),
                "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n", timeoutMillis);
    }

    private static int exchange(InetSocketAddress address, String request, int timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try (Socket s = new Socket()) {
            s.connect(address, timeoutMillis);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                s.setSoTimeout(remaining(deadline));
                int c = in.read();
                if (c < 0) {
                    return -1;
                }
                head.append((char) c);
            }
            String lower = head.toString().toLowerCase(Locale.ROOT);
            int at = lower.indexOf("\r\ncontent-length:");
            if (at >= 0) {
                int length = Integer.parseInt(lower.substring(at + 17, lower.indexOf('\r', at + 2)).trim());
                s.setSoTimeout(remaining(deadline));
                if (in.readNBytes(length).length < length) {
                    return -1;
                }
            } else {
                byte[] sink = new byte[4096];
                do {
                    s.setSoTimeout(remaining(deadline));
                } while (in.read(sink) >= 0);
            }
            return Integer.parseInt(head.substring(9, 12));
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1; // refused, reset or not HTTP: no answer either
        }
    }

    private static int remaining(long deadline) {
        return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }

    /** Opens {@code count} connections that each send {@code part} of a request and stay open. */
    static List<Socket> halfSent(int port, int count, String part) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            sockets.add(s);
            s.getOutputStream().write(part.getBytes(StandardCharsets.ISO_8859_1));
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
}
