package org.chefbackend.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Network partitions between loopback "hosts" on one machine (docs/DESIGN.md). Every process of a host runs in a
 * cgroup v2 group of its own; a SNAT rule gives its outgoing loopback connections the host's address as source
 * (otherwise they all come from 127.0.0.1), so plain source/destination DROP rules in INPUT cut hosts apart. Test
 * drivers in the root cgroup keep 127.0.0.1 and still reach every side. The rules live in chains of their own,
 * named after {@code tag}, and {@link #close} removes them all.
 *
 * <p>Set up before the hosts' processes start: conntrack does not re-translate connections that already exist.
 */
public final class LoopbackNet implements AutoCloseable {
    public static final Path CGROUP2 = Path.of("/sys/fs/cgroup/unified");

    private final String tag;
    private final List<String> hosts;
    private final String natChain;
    private final String dropChain;
    private final String outChain;

    private LoopbackNet(String tag, List<String> hosts) {
        this.tag = tag;
        this.hosts = List.copyOf(hosts);
        this.natChain = tag.toUpperCase(Locale.ROOT) + "_NAT";
        this.dropChain = tag.toUpperCase(Locale.ROOT) + "_IN";
        this.outChain = tag.toUpperCase(Locale.ROOT) + "_OUT";
    }

    /** One cgroup and one SNAT rule per host address. */
    public static LoopbackNet create(String tag, List<String> hosts) throws IOException {
        LoopbackNet p = new LoopbackNet(tag, hosts);
        p.close(); // leftovers of an earlier run
        try {
            for (String h : hosts) {
                Files.createDirectories(p.cgroup(h));
            }
            p.iptables("-t", "nat", "-N", p.natChain);
            p.iptables("-t", "nat", "-A", "POSTROUTING", "-j", p.natChain);
            for (String h : hosts) {
                p.iptables("-t", "nat", "-A", p.natChain, "-m", "cgroup", "--path", tag + "/" + cgroupName(h),
                        "-s", "127.0.0.1", "-d", "127.0.0.0/8", "-j", "SNAT", "--to-source", h);
            }
            p.iptables("-N", p.dropChain);
            p.iptables("-I", "INPUT", "1", "-j", p.dropChain);
            p.iptables("-N", p.outChain);
            p.iptables("-I", "OUTPUT", "1", "-j", p.outChain);
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** The cgroup whose processes are host {@code address}. */
    public Path cgroup(String address) {
        return CGROUP2.resolve(tag).resolve(cgroupName(address));
    }

    private static String cgroupName(String address) {
        return "h" + address.replace('.', '-');
    }

    /** Cuts {@code address} off from every other host, both ways. */
    public void isolate(String address) throws IOException {
        for (String other : hosts) {
            if (!other.equals(address)) {
                cut(address, other);
            }
        }
    }

    /**
     * Cuts {@code address} off from everyone, both ways: the other hosts and also the drivers and HAProxy in the root
     * cgroup (their 127.0.0.1 source). Only the host's traffic to itself still flows.
     */
    public void isolateFromAll(String address) throws IOException {
        iptables("-A", dropChain, "-d", address, "!", "-s", address, "-j", "DROP");
        iptables("-A", dropChain, "-s", address, "!", "-d", address, "-j", "DROP");
    }

    /**
     * Drops every packet from {@code from} to {@code to} (an asymmetric partition: {@code to}'s packets still arrive).
     * Two rules: in INPUT for connections {@code from} opens (their source is rewritten to its address only on the
     * way out, after OUTPUT), and in OUTPUT for replies on connections {@code to} opened, matched by their
     * connection's reply tuple: their destination is 127.0.0.1 again by then (the SNAT is undone before filtering).
     */
    public void cutOneWay(String from, String to) throws IOException {
        iptables("-A", dropChain, "-s", from, "-d", to, "-j", "DROP");
        iptables("-A", outChain, "-m", "conntrack", "--ctdir", "REPLY", "--ctreplsrc", from, "--ctrepldst", to, "-j", "DROP");
    }

    /**
     * The command prefix that runs {@code command} inside {@code cgroup} (the shell joins it, then execs the command, so
     * the command and everything it starts belong to the host). {@code cgroup} null: the command unchanged.
     */
    public static List<String> inCgroup(Path cgroup, List<String> command) {
        List<String> cmd = new ArrayList<>();
        if (cgroup != null) {
            cmd.addAll(List.of("bash", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec \"$@\"", "_"));
        }
        cmd.addAll(command);
        return cmd;
    }

    /** Drops traffic between two hosts, both ways. */
    public void cut(String a, String b) throws IOException {
        iptables("-A", dropChain, "-s", a, "-d", b, "-j", "DROP");
        iptables("-A", dropChain, "-s", b, "-d", a, "-j", "DROP");
    }

    /**
     * Drops the connections either host opens to the other's TCP {@code port} (their packets, both ways), and nothing
     * else: a service cut off while the rest of both hosts still talk.
     */
    public void cutPort(String a, String b, int port) throws IOException {
        iptables("-A", dropChain, "-s", a, "-d", b, "-p", "tcp", "--dport", String.valueOf(port), "-j", "DROP");
        iptables("-A", dropChain, "-s", b, "-d", a, "-p", "tcp", "--dport", String.valueOf(port), "-j", "DROP");
    }

    public void heal() throws IOException {
        iptables("-F", dropChain);
        iptables("-F", outChain);
    }

    /**
     * True when a TCP connection from host {@code from} (a process in its cgroup) to {@code address:port} succeeds
     * within a second: the probe a partition must first make fail.
     */
    public boolean reaches(String from, String address, int port) throws IOException {
        String probe = "echo $$ > " + cgroup(from).resolve("cgroup.procs") + " && exec timeout 1 bash -c '</dev/tcp/"
                + address + "/" + port + "'";
        return run(List.of("bash", "-c", probe)) == 0;
    }

    /** Removes the rules and chains, and the cgroups (they must be empty by then: the hosts' processes ended). */
    @Override
    public void close() {
        quietly("-t", "nat", "-D", "POSTROUTING", "-j", natChain);
        quietly("-t", "nat", "-F", natChain);
        quietly("-t", "nat", "-X", natChain);
        quietly("-D", "INPUT", "-j", dropChain);
        quietly("-F", dropChain);
        quietly("-X", dropChain);
        quietly("-D", "OUTPUT", "-j", outChain);
        quietly("-F", outChain);
        quietly("-X", outChain);
        for (String h : hosts) {
            try {
                Files.deleteIfExists(cgroup(h));
            } catch (IOException e) {
                // still has processes; the next run's close tries again
            }
        }
        try {
            Files.deleteIfExists(CGROUP2.resolve(tag));
        } catch (IOException e) {
            // not empty
        }
    }

    private void quietly(String... args) {
        try {
            List<String> cmd = new ArrayList<>(List.of("iptables", "-w"));
            cmd.addAll(List.of(args));
            run(cmd);
        } catch (IOException e) {
            // absent already
        }
    }

    private void iptables(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w"));
        cmd.addAll(List.of(args));
        if (run(cmd) != 0) {
            throw new IOException("failed: " + String.join(" ", cmd));
        }
    }

    private static int run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
