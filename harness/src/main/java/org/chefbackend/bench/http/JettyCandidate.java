package org.chefbackend.bench.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.chefbackend.api.AgentHttpServer;

/** The product's own server (Jetty 12 core since the choice). */
final class JettyCandidate implements ProbedServer {
    private final AgentHttpServer server;

    JettyCandidate(InetSocketAddress address, int threads, AgentHttpServer.Node node) throws IOException {
        server = new AgentHttpServer(address, threads, node);
    }

    @Override
    public int start() throws IOException {
        server.start();
        return server.port();
    }

    @Override
    public void stop() {
        server.stop();
    }
}
