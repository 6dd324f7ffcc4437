package org.chefbackend.faults;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The partitions the chaos harness and the partition ITs rely on, on real iptables rules (127.0.0.131-133). */
class LoopbackNetIT {
    static final String A = "127.0.0.131";
    static final String B = "127.0.0.132";
    static final String C = "127.0.0.133";
    static final int PORT = 15999;
    static final int OTHER_PORT = 15998;
    LoopbackNet net;
    final List<ServerSocket> listeners = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        net = LoopbackNet.create("cbitnet", List.of(A, B, C));
        for (String h : List.of(A, B, C)) {
            listen(h, PORT);
            listen(h, OTHER_PORT);
        }
    }

    private void listen(String h, int port) throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.bind(new InetSocketAddress(InetAddress.getByName(h), port));
        listeners.add(ss);
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try (Socket s = ss.accept()) {
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    return;
                }
            }
        }, "loopback-listener-" + h + ":" + port);
        t.setDaemon(true);
        t.start();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (ServerSocket ss : listeners) {
            ss.close();
        }
        net.close();
    }

    @Test
    void aOneWayCutLeavesNoTcpEitherWayUntilHealed() throws IOException {
        assertTrue(net.reaches(A, B, PORT) && net.reaches(B, A, PORT), "no connectivity before the cut");
        net.cutOneWay(A, B);
        assertFalse(net.reaches(A, B, PORT), "A's SYN still reaches B");
        assertFalse(net.reaches(B, A, PORT), "A's SYN-ACK still reaches B");
        assertTrue(net.reaches(A, C, PORT) && net.reaches(C, A, PORT), "the cut reached C");
        net.heal();
        assertTrue(net.reaches(A, B, PORT) && net.reaches(B, A, PORT), "the heal did not restore A-B");
    }

    @Test
    void isolationFromAllCutsTheDriverToo() throws IOException {
        net.isolateFromAll(A);
        assertFalse(net.reaches(A, B, PORT) || net.reaches(B, A, PORT), "A still talks to B");
        assertFalse(open(A), "the driver (root cgroup) still reaches A");
        assertTrue(net.reaches(B, C, PORT) && open(B), "B lost C or the driver");
        net.heal();
        assertTrue(open(A) && net.reaches(B, A, PORT));
    }

    @Test
    void aPortCutLeavesTheOtherPortsConnected() throws IOException {
        net.cutPort(A, B, PORT);
        assertFalse(net.reaches(A, B, PORT) || net.reaches(B, A, PORT), "the port still connects between A and B");
        assertTrue(net.reaches(A, B, OTHER_PORT) && net.reaches(B, A, OTHER_PORT), "the cut took another port");
        assertTrue(net.reaches(A, C, PORT) && net.reaches(C, A, PORT), "the cut reached C");
        net.heal();
        assertTrue(net.reaches(A, B, PORT) && net.reaches(B, A, PORT), "the heal did not restore the port");
    }

    static boolean open(String host) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, PORT), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
