package org.chefbackend.bench.http;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.AgentLogging;
import org.chefbackend.api.AgentHttpServer;

/**
 * The measured JVM: logging as the agent sets it up, one candidate server on 127.0.0.1 with a free port (or none,
 * the baseline), "port N" on stdout, then it serves until its stdin closes (and answers "heap" with its heap's
 * peak).
 */
public final class ProbeChild {
    /** leaderl.http_acceptors' default. */
    static final int ACCEPTORS = 10;

    private ProbeChild() {
    }

    public static void main(String[] args) throws Exception {
        AgentLogging.quietConsole(Level.WARN);
        AgentLogging.toRotatingLog(Files.createTempDirectory("probe-log"), 1 << 20, 1);
        new ObjectMapper().writeValueAsBytes(Map.of("warm", true)); // the agent has Jackson loaded in any case
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        ProbedServer server = switch (args[0]) {
            case "none" -> null;
            case "jdk-today" -> new JdkCandidate(address, ACCEPTORS, new StubNode(), false);
            case "jdk-growing" -> new JdkCandidate(address, ACCEPTORS, new StubNode(), true);
            case "jetty" -> new JettyCandidate(address, ACCEPTORS, new StubNode());
            case "netty" -> new NettyCandidate(address, ACCEPTORS, new StubNode());
            default -> throw new IllegalArgumentException("no candidate " + args[0]);
        };
        int port = server == null ? 0 : server.start();
        System.out.println("port " + port);
        System.out.flush();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            // serves until the probe closes our stdin; "heap" asks for the heap's peak since the last ask
            if (line.equals("heap")) {
                System.out.println("heap " + heapPeakSinceLastAsked());
                System.out.flush();
            }
        }
        if (server != null) {
            server.stop();
        }
    }

    /** The most the heap held since the last call (bytes, young and old generations summed), and a new start. */
    static long heapPeakSinceLastAsked() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
                pool.resetPeakUsage();
            }
        }
        return peak;
    }

    /** A leader that answers from memory, as the agent's /leader does. */
    static final class StubNode implements AgentHttpServer.Node {
        @Override
        public Map<String, Object> status() {
            return Map.of("ok", true);
        }

        @Override
        public boolean leader() {
            return true;
        }

        @Override
        public Map<String, Object> position() {
            return Map.of();
        }

        @Override
        public Map<String, Object> cluster() {
            return Map.of();
        }

        @Override
        public Map<String, Object> admin(String action, String service, JsonNode body) throws IOException {
            return Map.of();
        }

        @Override
        public List<byte[]> adminKeys() {
            return List.of();
        }
    }
}
