package org.chefbackend.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class HaproxyConfigTest {
    static final List<HaproxyConfig.Member> MEMBERS = List.of(
            new HaproxyConfig.Member("7caffa2c440aa682a2abbf4902d35fbd", "192.168.33.215"),
            new HaproxyConfig.Member("4ba4ae0a6686cf6b67590e621459f1e2", "192.168.33.216"),
            new HaproxyConfig.Member("89cc3a0c2e3e51bdc5db1f97f63deb99", "192.168.33.217"));

    /** Chef Server's haproxy.cfg template, as its reconfigure renders it for three members with the defaults. */
    @Test
    void matchesTheGoldenFileForChefServersDefaults() throws IOException {
        assertEquals(ChefServerRbTest.golden("haproxy.cfg"), HaproxyConfig.render(MEMBERS, HaproxyConfig.Options.defaults()));
    }

    @Test
    void listenAddressPortsAndSocketAreOptions() {
        String cfg = HaproxyConfig.render(MEMBERS.subList(0, 1),
                new HaproxyConfig.Options("127.0.0.1", 15432, 19200, 5433, 9201, 7332, "/tmp/demo/haproxy.sock"));
        assertTrue(cfg.contains("    bind 127.0.0.1:15432\n"), cfg);
        assertTrue(cfg.contains("    bind 127.0.0.1:19200\n"), cfg);
        assertTrue(cfg.contains("server 7caffa2c440aa682a2abbf4902d35fbd 192.168.33.215:5433 check port 7332\n"), cfg);
        assertTrue(cfg.contains("server 7caffa2c440aa682a2abbf4902d35fbd 192.168.33.215:9201 check port 7332\n"), cfg);
        assertTrue(cfg.contains("hdr Host localhost:7332\n"), cfg);
        assertTrue(cfg.contains("stats socket /tmp/demo/haproxy.sock mode 600"), cfg);
    }

    @Test
    void ipv6AddressesAreBracketed() {
        String cfg = HaproxyConfig.render(List.of(new HaproxyConfig.Member("a", "fd00::5")),
                new HaproxyConfig.Options("::", 5432, 9200, 5432, 9200, 7331, "/s"));
        assertTrue(cfg.contains("bind [::]:5432\n"), cfg);
        assertTrue(cfg.contains("server a [fd00::5]:5432 check port 7331\n"), cfg);
    }

    @Test
    void onlyThePostgresqlBackendShutsSessionsOfADownServer() {
        String cfg = HaproxyConfig.render(MEMBERS, HaproxyConfig.Options.defaults());
        assertEquals(1, cfg.split("shutdown-sessions", -1).length - 1);
        int pg = cfg.indexOf("\nbackend chef_backend_postgresql");
        int es = cfg.indexOf("\nbackend chef_backend_elasticsearch");
        int shut = cfg.indexOf("shutdown-sessions");
        assertTrue(pg < shut && shut < es);
    }

    @Test
    void refusesWhatWouldBreakTheFile() {
        assertThrows(IllegalArgumentException.class, () -> new HaproxyConfig.Member("a b", "10.0.0.1"));
        assertThrows(IllegalArgumentException.class, () -> new HaproxyConfig.Member("a", "10.0.0.1\nlisten x"));
        assertThrows(IllegalArgumentException.class,
                () -> new HaproxyConfig.Options("0.0.0.0", 0, 9200, 5432, 9200, 7331, "/s"));
        assertThrows(IllegalArgumentException.class,
                () -> new HaproxyConfig.Options("0.0.0.0", 5432, 9200, 5432, 9200, 7331, "/a b"));
        assertThrows(IllegalArgumentException.class, () -> HaproxyConfig.render(List.of(), HaproxyConfig.Options.defaults()));
    }
}
