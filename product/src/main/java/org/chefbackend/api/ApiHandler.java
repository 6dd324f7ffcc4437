package org.chefbackend.api;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.chefbackend.api.AgentApi.AdminRoute;
import org.chefbackend.api.AgentApi.LeaderRoute;
import org.chefbackend.api.AgentApi.NoRoute;
import org.chefbackend.api.AgentApi.ReadRoute;
import org.chefbackend.api.AgentApi.Reply;
import org.chefbackend.api.AgentApi.Route;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Serves {@link AgentApi} without ever blocking the thread that calls it, so Jetty runs it on its selector thread
 * (a non-blocking handler) and no worker is needed to answer HAProxy's {@code GET /leader}: that is answered at
 * once, from memory, whatever holds the workers. Refusals (404, 405, 413) are answered at once too; admin bodies
 * are read as they arrive ({@link BodyReader}), and only the calls that may wait (reads of the node's state, admin
 * calls with their whole body) go to the workers.
 */
final class ApiHandler extends Handler.Abstract.NonBlocking {
    private final AgentApi api;
    private final Executor workers;
    private final Scheduler scheduler;
    private final BodyBudget budget;
    private final Duration bodyDeadline;

    ApiHandler(AgentApi api, Executor workers, Scheduler scheduler, long bodyBudget, Duration bodyDeadline) {
        this.api = api;
        this.workers = workers;
        this.scheduler = scheduler;
        this.budget = new BodyBudget(bodyBudget);
        this.bodyDeadline = bodyDeadline;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long length = request.getLength(); // -1: not announced (chunked)
        if (length > AgentHttpServer.MAX_BODY) {
            send(response, callback, AgentApi.error(413, "request body of " + length + " bytes; at most "
                    + AgentHttpServer.MAX_BODY + " are read"), true);
            return true;
        }
        Route route = api.route(request.getMethod(), Request.getPathInContext(request));
        if (route instanceof LeaderRoute) {
            send(response, callback, api.leader(), false);
        } else if (route instanceof ReadRoute read) {
            work(response, callback, () -> api.read(read), () -> { });
        } else if (route instanceof AdminRoute admin) {
            admin(request, response, callback, admin, length);
        } else {
            send(response, callback, ((NoRoute) route).reply(), false);
        }
        return true;
    }

    private void admin(Request request, Response response, Callback callback, AdminRoute route, long length) {
        long reserved = length >= 0 ? length : AgentHttpServer.MAX_BODY;
        if (!budget.tryReserve(reserved)) {
            send(response, callback, AgentApi.error(503, "too many admin request bodies are being received; try"
                    + " again"), true);
            return;
        }
        // the address this agent was reached at: what a caller signs (a call signed for another agent is refused)
        String target = AdminAuth.target((InetSocketAddress) request.getConnectionMetaData().getLocalSocketAddress());
        new BodyReader(request, AgentHttpServer.MAX_BODY,
                body -> work(response, callback, () -> api.admin(route, request.getHeaders()::get, body, target),
                        () -> budget.release(reserved)),
                refusal -> {
                    budget.release(reserved);
                    send(response, callback, refusal, true); // the rest of the body is not read: the connection ends
                }).start(scheduler, bodyDeadline);
    }

    /** Runs {@code answer} on a worker and sends its reply; {@code after} runs once it is done (or refused). */
    private void work(Response response, Callback callback, Supplier<Reply> answer, Runnable after) {
        try {
            workers.execute(() -> {
                try {
                    send(response, callback, answer.get(), false);
                } catch (RuntimeException e) {
                    callback.failed(e); // AgentApi answers its own failures: this is Jetty's to end
                } finally {
                    after.run();
                }
            });
        } catch (RejectedExecutionException e) {
            after.run();
            send(response, callback, AgentApi.error(503, "the agent is busy (too many requests wait); try again"),
                    false);
        }
    }

    private static void send(Response response, Callback callback, Reply reply, boolean close) {
        response.setStatus(reply.status());
        HttpFields.Mutable headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, reply.contentType());
        headers.put(HttpHeader.CONTENT_LENGTH, reply.body().length);
        if (reply.allow() != null) {
            headers.put(HttpHeader.ALLOW, reply.allow());
        }
        if (close) {
            headers.put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        }
        response.write(true, ByteBuffer.wrap(reply.body()), callback);
    }
}
