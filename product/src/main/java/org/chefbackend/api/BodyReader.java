package org.chefbackend.api;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Reads a request's body without a thread of its own: it takes what has arrived and asks Jetty to call it again
 * when more comes (on the selector thread: it only copies bytes). A body must be complete within a deadline and
 * stay within a size limit; either way exactly one of {@code onBody} and {@code onRefusal} is called, once.
 */
final class BodyReader implements Invocable.Task {
    private final Request request;
    private final int limit;
    private final Consumer<byte[]> onBody;
    private final Consumer<AgentApi.Reply> onRefusal;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile Scheduler.Task deadline;

    BodyReader(Request request, int limit, Consumer<byte[]> onBody, Consumer<AgentApi.Reply> onRefusal) {
        this.request = request;
        this.limit = limit;
        this.onBody = onBody;
        this.onRefusal = onRefusal;
    }

    void start(Scheduler scheduler, Duration within) {
        deadline = scheduler.schedule(() -> refuse(408, "the request body did not arrive within "
                + within.toMillis() / 1000.0 + " s"), within.toMillis(), TimeUnit.MILLISECONDS);
        run();
    }

    @Override
    public void run() {
        while (!finished.get()) {
            Content.Chunk chunk = request.read();
            if (chunk == null) {
                request.demand(this);
                return;
            }
            if (Content.Chunk.isFailure(chunk)) {
                Throwable failure = chunk.getFailure();
                refuse(failure instanceof TimeoutException ? 408 : 400, "the request body did not arrive: "
                        + failure.getClass().getSimpleName());
                return;
            }
            ByteBuffer bytes = chunk.getByteBuffer();
            if (body.size() + bytes.remaining() > limit) {
                chunk.release();
                refuse(413, "request body over " + limit + " bytes");
                return;
            }
            body.writeBytes(BufferUtil.toArray(bytes));
            boolean last = chunk.isLast();
            chunk.release();
            if (last) {
                if (finish()) {
                    onBody.accept(body.toByteArray());
                }
                return;
            }
        }
    }

    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    private void refuse(int status, String reason) {
        if (finish()) {
            onRefusal.accept(AgentApi.error(status, reason));
        }
    }

    private boolean finish() {
        if (!finished.compareAndSet(false, true)) {
            return false;
        }
        Scheduler.Task task = deadline;
        if (task != null) {
            task.cancel();
        }
        return true;
    }
}
