package org.chefbackend.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.chefbackend.system.Poll;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node's services in the state the operator asked for: the children (postgresql, etcd, elasticsearch) and
 * leaderl's loop. Services are listed in name order, as {@code status} and {@code service-list} print them.
 */
public final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
    static final long TICK_MS = 250;

    private final Supplier<NodeContext> node;
    private final Map<String, Supervised> services = new LinkedHashMap<>();
    private final Map<String, ServiceRecipe> recipes = new LinkedHashMap<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "supervisor");
        t.setDaemon(true);
        return t;
    });

    public Supervisor(Supplier<NodeContext> node, List<ServiceRecipe> children,
            Supplier<? extends HaLoopControl> leaderl) {
        this.node = node;
        NodeContext ctx = node.get();
        List<String> names = new ArrayList<>();
        children.forEach(r -> names.add(r.name()));
        names.add("leaderl");
        names.sort(String::compareTo);
        for (String name : names) {
            if (name.equals("leaderl")) {
                boolean up = !downMarked(ctx, name)
                        && (!ctx.settings().bool("leaderl.start_down") || NodeState.inCluster(ctx.paths()));
                services.put(name, new LeaderlService(node, leaderl, up));
                continue;
            }
            ServiceRecipe recipe = children.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
            recipes.put(name, recipe);
            if (name.equals("postgresql")) {
                // no-start-pgsql forbids starting as a primary; a standby (standby.signal) cannot take writes
                ChildService pg = new ChildService(recipe, node, !downMarked(ctx, name),
                        () -> !NodeState.hasSentinel(node.get().paths(), NodeState.NO_START_PGSQL)
                                || Files.exists(node.get().path("postgresql.data_dir").resolve("standby.signal")),
                        NodeState.HELD_BY_NO_START_PGSQL);
                // a node syncing from the leader has no usable data directory until the sync succeeds
                pg.waitWhile(() -> NodeState.hasSentinel(node.get().paths(), NodeState.UNSYNCED),
                        "waiting for the sync from the leader (unsynced)");
                services.put(name, pg);
            } else {
                services.put(name, new ChildService(recipe, node, !downMarked(ctx, name), () -> true, null));
            }
        }
    }

    /** All service names, enabled or not, in display order. */
    public List<String> names() {
        return List.copyOf(services.keySet());
    }

    public boolean enabled(String name) {
        return node.get().settings().bool(name + ".enable");
    }

    /**
     * Checks, before anything starts, what would make a start fail half-way: every enabled child's setup
     * (users, directories and their owners, binaries, configuration) and that its ports are free.
     */
    public void preflight() throws IOException {
        NodeContext ctx = node.get();
        for (ServiceRecipe recipe : recipes.values()) {
            if (!enabled(recipe.name())) {
                continue;
            }
            if (recipe.name().equals("postgresql") && NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED)) {
                // no initdb on a node that is about to take a base backup; the sync prepares it afterwards
                ServiceUsers.requireOwnedBy(ctx.path("postgresql.data_dir"), ctx.settings().string("postgresql.username"),
                        "PostgreSQL data directory");
            } else {
                recipe.prepare(ctx);
            }
            for (InetSocketAddress address : recipe.listenAddresses(ctx)) {
                requireFree(recipe.name(), address);
            }
        }
    }

    public static void requireFree(String service, InetSocketAddress address) {
        MachineProbe.bindProblem(address).ifPresent(problem -> {
            throw new ServiceSetupException("cannot start " + service + ": " + address.getHostString() + ":"
                    + address.getPort() + " is already in use or not an address of this machine (" + problem + ")");
        });
    }

    /**
     * Ends children a crashed agent left behind, found by their pid files and checked by start time, so no
     * orphan survives and no service runs twice.
     */
    public void cleanOrphans() {
        NodeContext ctx = node.get();
        for (String name : recipes.keySet()) {
            Path pidFile = NodeState.pidFile(ctx.paths(), name);
            Optional<ProcessIdentity> orphan = read(pidFile).filter(ProcessIdentity::isAlive);
            if (orphan.isPresent()) {
                long pid = orphan.get().pid();
                log.warn("{}: ending pid {} left by a previous agent", name, pid);
                Signals.send(pid, recipes.get(name).stopSignal());
                Poll.until(Duration.ofMillis(ChildService.STOP_TIMEOUT_MS), Duration.ofMillis(100),
                        () -> !orphan.get().isAlive());
                if (orphan.get().isAlive()) {
                    Signals.send(pid, "KILL");
                }
            }
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                log.warn("{}: cannot delete {}: {}", name, pidFile, e.getMessage());
            }
        }
    }

    private static Optional<ProcessIdentity> read(Path pidFile) {
        try {
            return Files.exists(pidFile) ? ProcessIdentity.parse(Files.readString(pidFile)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void begin() {
        ticker.scheduleWithFixedDelay(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        long now = System.currentTimeMillis();
        for (Map.Entry<String, Supervised> e : services.entrySet()) {
            if (enabled(e.getKey())) {
                try {
                    e.getValue().tick(now);
                } catch (RuntimeException ex) {
                    log.error("{}: supervision failed: {}", e.getKey(), ex.toString());
                }
            }
        }
    }

    public List<ServiceStatus> statuses() {
        List<ServiceStatus> out = new ArrayList<>();
        services.forEach((name, s) -> {
            ServiceStatus st = s.status();
            out.add(enabled(name) ? st : new ServiceStatus(name, false, false, 0, st.sinceMillis(), false, false,
                    "disabled (" + name + ".enable is false)", 0));
        });
        return out;
    }

    public ServiceStatus status(String name) {
        return statuses().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** The operator's start: clears the down marker and starts the service now. */
    public void start(String name) throws IOException {
        Supervised s = require(name);
        Files.deleteIfExists(NodeState.downMarker(node.get().paths(), name));
        s.start();
    }

    /** The operator's stop: the service stays down, across agent restarts, until started again. */
    public void stop(String name) throws IOException {
        Supervised s = require(name);
        Path marker = NodeState.downMarker(node.get().paths(), name);
        Files.createDirectories(marker.getParent());
        Files.writeString(marker, "");
        s.stop();
    }

    public void restart(String name) throws IOException {
        Supervised s = require(name);
        Files.deleteIfExists(NodeState.downMarker(node.get().paths(), name));
        s.shutdown();
        s.start();
    }

    /** True when the operator stopped the service (stop SERVICE): nothing but their start brings it back. */
    public boolean stoppedByOperator(String name) {
        return downMarked(node.get(), name);
    }

    /** leaderl's stop for maintenance (rewind, base backup): down now, without the operator's down marker. */
    public void hold(String name) {
        require(name).stop();
    }

    /** leaderl's fencing: the signal now, the process gone within {@code timeout}. */
    public void kill(String name, String signal, Duration timeout) {
        Supervised s = require(name);
        if (s instanceof ChildService child) {
            child.kill(signal, timeout);
        }
    }

    /** Asks a running child to re-read its configuration; restarts it when it cannot reload. */
    public void reload(String name) throws IOException {
        Supervised s = require(name);
        if (!(s instanceof ChildService child) || !child.reload()) {
            restart(name);
        }
    }

    /** What the enabled children would refuse to start with in {@code ctx}'s settings, one line each; writes nothing. */
    public List<String> refusals(NodeContext ctx) {
        List<String> refusals = new ArrayList<>();
        for (ServiceRecipe recipe : recipes.values()) {
            if (ctx.settings().bool(recipe.name() + ".enable")) {
                try {
                    recipe.check(ctx);
                } catch (ServiceSetupException e) {
                    refusals.add(e.getMessage());
                }
            }
        }
        return refusals;
    }

    /** Where each child enabled in {@code ctx}'s settings would listen. */
    public Map<String, List<InetSocketAddress>> endpoints(NodeContext ctx) {
        Map<String, List<InetSocketAddress>> out = new LinkedHashMap<>();
        recipes.forEach((name, recipe) -> {
            if (ctx.settings().bool(name + ".enable")) {
                out.put(name, recipe.claimedAddresses(ctx));
            }
        });
        return out;
    }

    /** Where each running child listens now. */
    public Map<String, List<InetSocketAddress>> heldEndpoints() {
        Map<String, List<InetSocketAddress>> out = new LinkedHashMap<>();
        recipes.forEach((name, recipe) -> {
            if (enabled(name) && services.get(name).status().running()) {
                out.put(name, recipe.claimedAddresses(node.get()));
            }
        });
        return out;
    }

    /**
     * Renders the configuration of every child enabled in {@code ctx}'s settings (their files change; no process
     * does). Returns what each running child would need to pick the change up, for {@link #apply}.
     */
    public Map<String, Change> render(NodeContext ctx) throws IOException {
        Map<String, Change> changes = new LinkedHashMap<>();
        for (Map.Entry<String, ServiceRecipe> e : recipes.entrySet()) {
            if (ctx.settings().bool(e.getKey() + ".enable")) {
                changes.put(e.getKey(), e.getValue().prepare(ctx));
            }
        }
        return changes;
    }

    /**
     * Applies what {@link #render} found, with the settings now in force: reload where the service can re-read its
     * configuration, restart where it must, stop what is no longer enabled. Returns what was done per service.
     */
    public Map<String, String> apply(Map<String, Change> changes) {
        Map<String, String> done = new LinkedHashMap<>();
        for (String name : recipes.keySet()) {
            ChildService child = (ChildService) services.get(name);
            Change change = changes.get(name);
            boolean running = child.status().running();
            if (change == null) {
                if (running) {
                    child.shutdown();
                }
                done.put(name, running ? "stopped (disabled)" : "disabled");
            } else if (change == Change.NONE || !running) {
                done.put(name, change == Change.NONE ? "unchanged" : "configured (not running)");
            } else if (change == Change.RELOAD && child.reload()) {
                done.put(name, "reloaded");
            } else {
                child.restart();
                done.put(name, "restarted");
            }
        }
        return done;
    }

    /** Stops everything for the agent's exit, children in parallel (etcd may take long without its peers). */
    public void shutdown() {
        ticker.shutdownNow();
        // leaderl first: a leader hands over (clean PostgreSQL stop, key released) while etcd still runs
        Supervised leaderl = services.get("leaderl");
        if (leaderl != null) {
            leaderl.close();
        }
        List<Thread> stoppers = new ArrayList<>();
        for (Supervised s : services.values()) {
            if (s == leaderl) {
                continue;
            }
            Thread t = new Thread(s::close, "stop-" + s.name());
            t.start();
            stoppers.add(t);
        }
        for (Thread t : stoppers) {
            try {
                t.join(ChildService.STOP_TIMEOUT_MS + 15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Supervised require(String name) {
        Supervised s = services.get(name);
        if (s == null) {
            throw new ServiceSetupException("unknown service '" + name + "'; services are " + String.join(", ", names()));
        }
        if (!enabled(name)) {
            throw new ServiceSetupException(name + " is disabled (" + name + ".enable is false in chef-backend.rb)");
        }
        return s;
    }

    private static boolean downMarked(NodeContext ctx, String name) {
        return Files.exists(NodeState.downMarker(ctx.paths(), name));
    }
}
