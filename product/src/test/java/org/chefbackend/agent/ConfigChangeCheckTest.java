package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The checks a reconfigure passes before anything changes, against a machine described in the test. */
class ConfigChangeCheckTest {
    static final MachineFacts FACTS = new MachineFacts(8L << 30, "host");
    static final String RUNNING = "publish_address '10.0.0.1'\nfqdn 'be1'\n";
    /** Addresses of the test's machine; 192.0.2.x (TEST-NET-1) is nobody's. */
    static final Set<String> LOCAL = Set.of("10.0.0.1", "10.0.0.2");

    /** A machine with LOCAL addresses where {@code busy} endpoints are taken. */
    record FakeMachine(Set<InetSocketAddress> busy) implements ConfigChangeCheck.Machine {
        @Override
        public boolean isLocal(String address) {
            return LOCAL.contains(address);
        }

        @Override
        public boolean isFree(InetSocketAddress endpoint) {
            return !busy.contains(endpoint);
        }
    }

    static NodeContext node(String rb) {
        Settings s = Settings.from(ChefBackendRbParser.parse("chef-backend.rb", rb), FACTS);
        return new NodeContext(s, new NodePaths(Path.of("/")), s.string("fqdn"), "0".repeat(32), null);
    }

    static InetSocketAddress at(String address, int port) {
        return new InetSocketAddress(address, port);
    }

    /** Where the services listen with these settings, as the recipes and the agent compute it. */
    static Map<String, List<InetSocketAddress>> endpoints(NodeContext n) {
        Settings s = n.settings();
        String a = n.publishAddress();
        Map<String, List<InetSocketAddress>> m = new LinkedHashMap<>();
        m.put("elasticsearch", List.of(at(a, s.intValue("elasticsearch.port")), at(a, 9300)));
        m.put("etcd", List.of(at(a, s.intValue("etcd.client_port")), at(a, s.intValue("etcd.peer_port"))));
        m.put("postgresql", List.of(at(a, s.intValue("postgresql.port"))));
        m.put("leaderl", List.of(at(s.optionalString("leaderl.http_address").orElse(a), s.intValue("leaderl.http_port"))));
        return m;
    }

    static List<String> problems(String newRb, boolean member, InetSocketAddress... busyElsewhere) {
        NodeContext before = node(RUNNING);
        NodeContext after = node(newRb);
        Map<String, List<InetSocketAddress>> held = endpoints(before);
        Set<InetSocketAddress> busy = new HashSet<>(Set.of(busyElsewhere));
        held.values().forEach(busy::addAll); // what our services hold is taken, for everyone else
        return ConfigChangeCheck.problems(before, after, member, held, endpoints(after), new FakeMachine(busy));
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("nothing changed", RUNNING, true, List.of(), List.of()),
                Arguments.of("a new port that is free", RUNNING + "postgresql.port = 5433\n", true, List.of(), List.of()),
                Arguments.of("a foreign publish_address", "publish_address '192.0.2.10'\nfqdn 'be1'\n", true, List.of(),
                        List.of("chef-backend.rb:1:1: publish_address 192.0.2.10 is not an address of this machine")),
                Arguments.of("a foreign publish_address and http_address",
                        "publish_address '192.0.2.10'\nfqdn 'be1'\nleaderl.http_address = '192.0.2.11'\n", false, List.of(),
                        List.of("chef-backend.rb:1:1: publish_address 192.0.2.10 is not an address of this machine",
                                "chef-backend.rb:3:1: leaderl.http_address 192.0.2.11 is not an address of this machine")),
                Arguments.of("a foreign http_address that is the VIP",
                        RUNNING + "vip '192.0.2.11'\nleaderl.http_address = '192.0.2.11'\n", true, List.of(), List.of()),
                Arguments.of("another local publish_address, not a member",
                        "publish_address '10.0.0.2'\nfqdn 'be1'\n", false, List.of(), List.of()),
                Arguments.of("another local publish_address on a member", "publish_address '10.0.0.2'\nfqdn 'be1'\n",
                        true, List.of(), List.of("chef-backend.rb:1:1: publish_address cannot change from 10.0.0.1 to"
                                + " 10.0.0.2 on a cluster member: the cluster reaches this node at 10.0.0.1 (to move it:"
                                + " remove-node, cleanse, then join-cluster from the new address)")),
                Arguments.of("a new name on a member", "publish_address '10.0.0.1'\nfqdn 'be2'\n", true, List.of(),
                        List.of("chef-backend.rb:2:1: the node's name cannot change from be1 to be2 on a cluster member:"
                                + " the cluster knows it by that name")),
                Arguments.of("a port something else holds", RUNNING + "postgresql.port = 5433\n", true,
                        List.of(at("10.0.0.1", 5433)), List.of("chef-backend.rb:3:1: postgresql.port: postgresql would"
                                + " listen on 10.0.0.1:5433, which is in use")),
                Arguments.of("a port another of our services holds", RUNNING + "postgresql.port = 2379\n", true,
                        List.of(), List.of("chef-backend.rb:3:1: postgresql.port: postgresql would listen on"
                                + " 10.0.0.1:2379, which etcd listens on too")),
                Arguments.of("two of our services swap their ports",
                        RUNNING + "postgresql.port = 9200\nelasticsearch.port = 5432\n", true, List.of(),
                        List.of("chef-backend.rb:4:1: elasticsearch.port: elasticsearch would listen on 10.0.0.1:5432,"
                                        + " which is in use",
                                "chef-backend.rb:3:1: postgresql.port: postgresql would listen on 10.0.0.1:9200,"
                                        + " which is in use")),
                Arguments.of("one service's two ports the same", RUNNING + "etcd.peer_port = 2379\n", true, List.of(),
                        List.of("chef-backend.rb:3:1: etcd.peer_port: etcd would listen on 10.0.0.1:2379, which it"
                                + " already does for another port setting")),
                Arguments.of("an HTTP port in use", RUNNING + "leaderl.http_port = 8000\n", true,
                        List.of(at("10.0.0.1", 8000)), List.of("chef-backend.rb:3:1: leaderl.http_port: leaderl would"
                                + " listen on 10.0.0.1:8000, which is in use")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void findsWhatTheMachineCannotTake(String name, String newRb, boolean member, List<InetSocketAddress> busy,
            List<String> expected) {
        assertEquals(expected, problems(newRb, member, busy.toArray(InetSocketAddress[]::new)));
    }

    @Test
    void addressProblemsAloneNeedNoRunningNode() {
        Settings s = node("publish_address '192.0.2.10'\nfqdn 'be1'\n").settings();
        assertEquals(List.of("chef-backend.rb:1:1: publish_address 192.0.2.10 is not an address of this machine"),
                ConfigChangeCheck.addressProblems(s, new FakeMachine(Set.of())));
        assertEquals(List.of(), ConfigChangeCheck.addressProblems(node(RUNNING).settings(), new FakeMachine(Set.of())));
    }
}
