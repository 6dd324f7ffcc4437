package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The login-free "accepting connections?" probe against a scripted server speaking the v3 protocol's first step. */
class PostgresPingTest {
    /** Answers one startup message with {@code reply} (type byte + body) and records what the client sent. */
    static boolean ping(byte type, byte[] body, AtomicReference<String> sent) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    int length = in.readInt();
                    int protocol = in.readInt();
                    byte[] params = new byte[length - 8];
                    in.readFully(params);
                    sent.set(protocol + ":" + new String(params, StandardCharsets.UTF_8).replace('\0', '|'));
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeByte(type);
                    out.writeInt(4 + body.length);
                    out.write(body);
                    out.flush();
                    // the client must read the whole message and close: EOF here, not a reset
                    sent.set(sent.get() + (in.read() == -1 ? ";eof" : ";more"));
                } catch (IOException e) {
                    sent.set("server failed: " + e);
                }
            });
            t.start();
            boolean up = PostgresAdmin.answersWithAuthenticationRequest("127.0.0.1", ss.getLocalPort(), "chef_pgsql", 2000);
            t.join(5000);
            return up;
        }
    }

    @Test
    void anAuthenticationRequestMeansAcceptingWithoutLoggingIn() throws Exception {
        AtomicReference<String> sent = new AtomicReference<>();
        byte[] sasl = "\0\0\0\nSCRAM-SHA-256\0\0".getBytes(StandardCharsets.UTF_8);
        assertTrue(ping((byte) 'R', sasl, sent));
        assertTrue(sent.get().startsWith("196608:user|chef_pgsql|database|postgres|"), sent.get());
        assertTrue(sent.get().endsWith(";eof"), "the client did not close cleanly: " + sent.get());
    }

    @Test
    void anErrorMeansNotAccepting() throws Exception {
        AtomicReference<String> sent = new AtomicReference<>();
        byte[] starting = "SFATAL\0C57P03\0Mthe database system is starting up\0\0".getBytes(StandardCharsets.UTF_8);
        assertFalse(ping((byte) 'E', starting, sent));
    }

    @Test
    void nothingListeningMeansNotAccepting() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        assertFalse(PostgresAdmin.answersWithAuthenticationRequest("127.0.0.1", port, "chef_pgsql", 1000));
    }
}
