package org.chefbackend.agent;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.chefbackend.config.SettingDefinition;
import org.chefbackend.config.Settings;
import org.chefbackend.config.SettingsSchema;

/**
 * Whether a new chef-backend.rb can take over from the running one on this machine, decided before anything
 * changes: a reconfigure either applies all of it or none. Pure: what the machine says (which addresses it can bind,
 * which ports are free) comes in as a {@link Machine}, and every problem comes out as one line, with the file:line:col
 * of the setting that causes it when chef-backend.rb sets it.
 */
public final class ConfigChangeCheck {
    /** The settings that name an address of this node. */
    static final List<String> ADDRESS_SETTINGS = List.of("publish_address", "leaderl.http_address");

    /** What the machine says; {@link MachineProbe} asks the kernel. */
    public interface Machine {
        /** Whether the address belongs to this machine (it can be bound). */
        boolean isLocal(String address);

        /** Whether nothing listens on the endpoint. */
        boolean isFree(InetSocketAddress endpoint);
    }

    private ConfigChangeCheck() {
    }

    /**
     * The address settings that are not this machine's. An address equal to the configured {@code vip} is
     * accepted: a floating address is bound only where it currently lives. (This product binds no VIP itself;
     * {@code vip} is kept for old files, and this is where a VIP that floats to the leader would be allowed for.)
     */
    public static List<String> addressProblems(Settings after, Machine machine) {
        return describeForeign(after, foreignAddresses(after, machine));
    }

    private static List<String> describeForeign(Settings s, Map<String, String> foreign) {
        List<String> problems = new ArrayList<>();
        foreign.forEach((key, address) -> problems.add(at(s, key) + key + " " + address
                + " is not an address of this machine"));
        return problems;
    }

    /** Address setting to its address, for those that are neither this machine's nor the VIP. */
    private static Map<String, String> foreignAddresses(Settings s, Machine machine) {
        Map<String, String> foreign = new LinkedHashMap<>();
        for (String key : ADDRESS_SETTINGS) {
            s.optionalString(key).filter(a -> !isVip(s, a) && !machine.isLocal(a)).ifPresent(a -> foreign.put(key, a));
        }
        return foreign;
    }

    /**
     * Every problem with going from {@code before} to {@code after}: addresses not on this machine, a cluster
     * member's address or name changing (the cluster knows the node by them), and endpoints the services would
     * listen on that two of them claim or that something else holds. An endpoint counts as free when the same
     * service holds it now.
     *
     * @param held where each running service listens now
     * @param wanted where each enabled service would listen with {@code after}
     */
    public static List<String> problems(NodeContext before, NodeContext after, boolean clusterMember,
            Map<String, List<InetSocketAddress>> held, Map<String, List<InetSocketAddress>> wanted, Machine machine) {
        Settings s = after.settings();
        Map<String, String> foreign = foreignAddresses(s, machine);
        List<String> problems = describeForeign(s, foreign);
        if (clusterMember && foreign.isEmpty()) {
            memberIdentityProblem(before, after).ifPresent(problems::add);
        }
        Map<InetSocketAddress, String> claimedBy = new HashMap<>();
        wanted.forEach((service, endpoints) -> {
            for (InetSocketAddress endpoint : endpoints) {
                String address = endpoint.getHostString();
                if (isVip(s, address) || foreign.containsValue(address)) {
                    continue; // a VIP, or an address already said to be foreign: nothing to bind here
                }
                String owner = claimedBy.putIfAbsent(endpoint, service);
                if (owner != null) {
                    problems.add(where(s, service, endpoint) + service + " would listen on " + endpoint(endpoint)
                            + ", which " + (owner.equals(service) ? "it already does for another port setting"
                            : owner + " listens on too"));
                } else if (!held.getOrDefault(service, List.of()).contains(endpoint) && !machine.isFree(endpoint)) {
                    problems.add(where(s, service, endpoint) + service + " would listen on " + endpoint(endpoint)
                            + ", which is in use");
                }
            }
        });
        return problems;
    }

    private static Optional<String> memberIdentityProblem(NodeContext before, NodeContext after) {
        String was = before.publishAddress();
        String is = after.publishAddress();
        if (!Objects.equals(was, is)) {
            return Optional.of(at(after.settings(), "publish_address") + "publish_address cannot change from " + was
                    + " to " + is + " on a cluster member: the cluster reaches this node at " + was
                    + " (to move it: remove-node, cleanse, then join-cluster from the new address)");
        }
        if (!before.nodeName().equals(after.nodeName())) {
            return Optional.of(at(after.settings(), "fqdn") + "the node's name cannot change from "
                    + before.nodeName() + " to " + after.nodeName() + " on a cluster member: the cluster knows it by"
                    + " that name");
        }
        return Optional.empty();
    }

    private static boolean isVip(Settings s, String address) {
        return s.optionalString("vip").map(address::equals).orElse(false);
    }

    /**
     * "file:line:col: postgresql.port: " for a service's endpoint: its port setting with that value (the address's
     * setting when none has it), with its place in chef-backend.rb when the file sets it.
     */
    private static String where(Settings s, String service, InetSocketAddress endpoint) {
        String key = SettingsSchema.get().definitions().stream().map(SettingDefinition::key)
                .filter(k -> k.startsWith(service + ".") && k.endsWith("port") && s.get(k) instanceof Long port
                        && port == endpoint.getPort())
                .min(Comparator.comparing(k -> s.setAt(k).isEmpty())) // the one chef-backend.rb sets, if any
                .orElse(service.equals("leaderl") && s.optionalString("leaderl.http_address").isPresent()
                        ? "leaderl.http_address" : "publish_address");
        return at(s, key) + key + ": ";
    }

    private static String at(Settings s, String key) {
        return s.setAt(key).map(p -> p + ": ").orElse("");
    }

    private static String endpoint(InetSocketAddress e) {
        String host = e.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + e.getPort();
    }
}
