package org.chefbackend.bench.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** HAProxy's check as bytes on a socket, and clients that send half a request and stay. */
final class RawHttp {
    static final String CHECK = "GET /leader HTTP/1.1\r\nHost: localhost:7331\r\n\r\n";
    static final String HALF = "GET /leader HTTP/1.1\r\nHost: x\r\n";
    /** Complete headers, then 1 byte of the 1000 announced. */
    static final String HALF_BODY = "POST /admin/start HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{";

    private RawHttp() {
    }

    /**
     * One check on a new connection, as HAProxy does: returns the status code, or -1 when no complete reply came
     * within {@code timeoutMillis} (or the server closed the connection first).
     */
    static int check(int port, int timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            s.getOutputStream().write(CHECK.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                int c = in.read();
                if (c < 0) {
                    return -1;
                }
                head.append((char) c);
            }
            String lower = head.toString().toLowerCase(Locale.ROOT);
            int at = lower.indexOf("\r\ncontent-length:");
            int length = Integer.parseInt(lower.substring(at + 17, lower.indexOf('\r', at + 2)).trim());
            if (in.readNBytes(length).length < length) {
                return -1;
            }
            return Integer.parseInt(head.substring(9, 12));
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (IOException e) {
            return -1; // refused or reset: no answer either
        }
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
