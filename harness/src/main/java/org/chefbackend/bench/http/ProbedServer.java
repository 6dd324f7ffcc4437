package org.chefbackend.bench.http;

/** A candidate for the agent's HTTP server, carrying the product's AgentApi, as HttpServerProbe measures it. */
interface ProbedServer {
    /** Starts serving; returns the port. */
    int start() throws Exception;

    void stop() throws Exception;
}
