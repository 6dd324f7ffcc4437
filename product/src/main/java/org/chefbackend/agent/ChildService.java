package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A supervised child process: runs the recipe's launch as its service user, writes its output to
 * {@code <log_directory>/current}, restarts it with back-off when it dies, and records its identity in a pid file
 * so that a later agent can clean it up if this one crashes.
 */
final class ChildService implements Supervised {
    private static final Logger log = LoggerFactory.getLogger(ChildService.class);
    static final long MIN_BACKOFF_MS = 1000;
    static final long MAX_BACKOFF_MS = 30_000;
    /** A process that ran this long was healthy; its next failure starts back-off afresh. */
    static final long STABLE_MS = 60_000;
    static final long STOP_TIMEOUT_MS = 30_000;

    private final ServiceRecipe recipe;
    private final Supplier<NodeContext> node;
    /** False while something outside the operator's start/stop forbids running (e.g. no-start-pgsql). */
    private final BooleanSupplier allowed;
    private final String blockedReason;

    private boolean wantUp;
    /** Set by {@link #close}: the agent is exiting, and nothing may start this service again. */
    private boolean closed;
    private Process process;
    private RotatingLog output;
    private long sinceMillis = System.currentTimeMillis();
    private long nextAttemptMillis;
    private long backoffMs = MIN_BACKOFF_MS;
    private int restarts;
    private String reason;
    /** Set once {@link #allowed} refused a start; only an explicit start clears it (a fenced leader stays down). */
    private boolean heldDown;
    /** A passing condition that delays starts without needing an operator (e.g. a sync in progress). */
    private BooleanSupplier waitCondition = () -> false;
    private String waitReason;

    ChildService(ServiceRecipe recipe, Supplier<NodeContext> node, boolean wantUp, BooleanSupplier allowed,
            String blockedReason) {
        this.recipe = recipe;
        this.node = node;
        this.wantUp = wantUp;
        this.allowed = allowed;
        this.blockedReason = blockedReason;
    }

    void waitWhile(BooleanSupplier condition, String reason) {
        this.waitCondition = condition;
        this.waitReason = reason;
    }

    @Override
    public String name() {
        return recipe.name();
    }

    @Override
    public synchronized ServiceStatus status() {
        boolean running = process != null && process.isAlive();
        String why = running ? null : heldDown ? blockedReason + (allowed.getAsBoolean() ? " (removed; start it)" : "")
                : waitCondition.getAsBoolean() ? waitReason : reason;
        return new ServiceStatus(name(), true, running, running ? process.pid() : 0, sinceMillis, wantUp,
                !Files.exists(NodeState.downMarker(node.get().paths(), name())), why, restarts);
    }

    @Override
    public synchronized void start() {
        wantUp = true;
        heldDown = false;
        nextAttemptMillis = 0;
        backoffMs = MIN_BACKOFF_MS;
        reason = null;
        tick(System.currentTimeMillis());
    }

    @Override
    public synchronized void tick(long now) {
        if (closed) {
            // leaderl's loop can still be finishing an iteration while the agent exits: a start now would leave a
            // process nobody stops (a postmaster was left running after bin/bench stopped an agent)
            log.info("{}: not started: the agent is shutting down", name());
            return;
        }
        if (!wantUp || heldDown || (process != null && process.isAlive()) || now < nextAttemptMillis) {
            return;
        }
        if (!allowed.getAsBoolean()) {
            heldDown = true;
            return;
        }
        if (waitCondition.getAsBoolean()) {
            return;
        }
        try {
            spawn();
        } catch (IOException | RuntimeException e) {
            reason = "cannot start: " + e.getMessage();
            log.warn("{}: {}", name(), reason);
            scheduleRetry(now);
        }
    }

    private void spawn() throws IOException {
        NodeContext ctx = node.get();
        recipe.prepare(ctx);
        Launch launch = recipe.launch(ctx);
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + launch.user(), "--regid=" + launch.user(),
                "--init-groups", "--"));
        command.addAll(launch.command());
        ProcessBuilder pb = new ProcessBuilder(command).directory(launch.workingDirectory().toFile())
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("LANG", "C.UTF-8");
        env.putAll(launch.environment());
        if (output == null) {
            Path dir = ctx.logDirectory(name());
            output = new RotatingLog(dir, ctx.settings().integer(name() + ".log_rotation.file_maxbytes"),
                    ctx.settings().intValue(name() + ".log_rotation.num_to_keep"));
        }
        Process p = pb.start();
        p.getOutputStream().close();
        process = p;
        sinceMillis = System.currentTimeMillis();
        reason = null;
        recordPid(ctx, p.pid());
        // the log is world-readable: no secret of the cluster gets into it, whatever the service prints
        RotatingLog.pump(p.getInputStream(), output, name() + "-output", Redaction.of(ctx.secrets().accessValues()));
        log.info("{}: started, pid {}", name(), p.pid());
        p.onExit().thenAccept(this::exited);
    }

    private synchronized void exited(Process p) {
        if (p != process) {
            return;
        }
        long now = System.currentTimeMillis();
        long ranFor = now - sinceMillis;
        sinceMillis = now;
        deletePidFile();
        if (wantUp) {
            restarts++;
            reason = "exited with status " + p.exitValue();
            log.warn("{}: pid {} {} after {} ms", name(), p.pid(), reason, ranFor);
            if (ranFor >= STABLE_MS) {
                backoffMs = MIN_BACKOFF_MS;
            }
            scheduleRetry(now);
        } else {
            log.info("{}: pid {} stopped", name(), p.pid());
        }
    }

    private void scheduleRetry(long now) {
        nextAttemptMillis = now + backoffMs;
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }

    @Override
    public void stop() {
        synchronized (this) {
            wantUp = false;
        }
        terminate();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true; // under the lock: a start either spawned before this (and is stopped below) or never will
        }
        shutdown();
    }

    @Override
    public void shutdown() {
        stop();
        synchronized (this) {
            if (output != null) {
                output.close();
                output = null;
            }
        }
    }

    /** Stop signal, then SIGKILL after a deadline; the lock is not held while waiting so status stays readable. */
    private void terminate() {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null || !p.isAlive()) {
            return;
        }
        Signals.send(p.pid(), recipe.stopSignal());
        try {
            if (!p.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                log.warn("{}: pid {} ignored SIG{} for {} ms; killing it", name(), p.pid(), recipe.stopSignal(), STOP_TIMEOUT_MS);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends {@code signal} (e.g. QUIT: PostgreSQL's immediate shutdown, for fencing) and waits for the process to
     * end, SIGKILL after {@code timeout}. The service stays wanted up: whatever holds it down (the no-start-pgsql
     * sentinel) must already be in place.
     */
    void kill(String signal, Duration timeout) {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null || !p.isAlive()) {
            return;
        }
        Signals.send(p.pid(), signal);
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends the recipe's reload signal; false when the service cannot reload (then restart). */
    synchronized boolean reload() {
        if (recipe.reloadSignal() == null || process == null || !process.isAlive()) {
            return false;
        }
        return Signals.send(process.pid(), recipe.reloadSignal());
    }

    /** Stop, then start with a fresh log writer (log_directory may have changed). */
    void restart() {
        shutdown();
        start();
    }

    ServiceRecipe recipe() {
        return recipe;
    }

    private void recordPid(NodeContext ctx, long pid) throws IOException {
        Path file = NodeState.pidFile(ctx.paths(), name());
        Files.createDirectories(file.getParent());
        Optional<ProcessIdentity> id = ProcessIdentity.of(pid);
        if (id.isPresent()) {
            Files.writeString(file, id.get().serialize() + "\n");
        }
    }

    private void deletePidFile() {
        try {
            Files.deleteIfExists(NodeState.pidFile(node.get().paths(), name()));
        } catch (IOException e) {
            log.warn("{}: cannot delete pid file: {}", name(), e.getMessage());
        }
    }
}
