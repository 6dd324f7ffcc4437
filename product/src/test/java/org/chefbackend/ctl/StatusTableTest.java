package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusTableTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long NOW = 1_000_000_000L;

    static JsonNode svc(String name, boolean running, long pid, long secondsAgo) throws Exception {
        return JSON.readTree("{\"name\":\"" + name + "\",\"enabled\":true,\"running\":" + running + ",\"pid\":" + pid
                + ",\"sinceMillis\":" + (NOW - secondsAgo * 1000) + ",\"wantUp\":true,\"normallyUp\":true}");
    }

    @Test
    void aRunningServiceThatDoesNotWorkIsUnhealthyAndSaysWhy() throws Exception {
        JsonNode status = JSON.readTree("{\"etcd\":{\"healthy\":true},\"postgresql\":{\"accepting\":true},"
                + "\"elasticsearch\":{\"reachable\":true,\"healthy\":false,\"problem\":\"no elected cluster manager\","
                + "\"status\":\"red\",\"nodes\":1}}");
        List<JsonNode> services = List.of(svc("elasticsearch", true, 1, 5), svc("etcd", true, 2, 5),
                svc("postgresql", true, 3, 5), svc("leaderl", true, 4, 5));
        assertEquals(List.of("elasticsearch: no elected cluster manager"), StatusTable.unhealthy(status, services));
        JsonNode healthy = JSON.readTree("{\"etcd\":{\"healthy\":true},\"postgresql\":{\"accepting\":true},"
                + "\"elasticsearch\":{\"reachable\":true,\"healthy\":true,\"status\":\"green\",\"nodes\":3}}");
        assertEquals(List.of(), StatusTable.unhealthy(healthy, services));
        // a service that is down is judged by up/down (exit 3), not counted again as unhealthy
        JsonNode allDown = JSON.readTree("{\"etcd\":{\"healthy\":false},\"postgresql\":{\"accepting\":false},"
                + "\"elasticsearch\":{\"reachable\":false}}");
        assertEquals(List.of(), StatusTable.unhealthy(allDown, List.of(svc("elasticsearch", false, 0, 5),
                svc("etcd", false, 0, 5), svc("postgresql", false, 0, 5))));
        assertEquals(List.of("etcd: member not healthy", "postgresql: not accepting connections"),
                StatusTable.unhealthy(allDown, List.of(svc("etcd", true, 2, 5), svc("postgresql", true, 3, 5))));
    }

    @Test
    void durationIsDaysHoursMinutesSeconds() {
        assertEquals("53d 15h 11m 12s", ServiceLines.duration(53L * 86400 + 15 * 3600 + 11 * 60 + 12));
        assertEquals("0d 0h 0m 0s", ServiceLines.duration(0));
    }

    @Test
    void tableHasTheOriginalsColumns() throws Exception {
        JsonNode status = JSON.readTree("{\"in_cluster\":false,"
                + "\"etcd\":{\"healthy\":true,\"members\":1,\"healthy_members\":1},"
                + "\"elasticsearch\":{\"reachable\":true,\"status\":\"green\",\"nodes\":1},"
                + "\"postgresql\":{\"accepting\":true,\"in_recovery\":false},"
                + "\"disks\":[{\"path\":\"/var/log/chef-backend\",\"ok\":true,\"free_mb\":9},"
                + "{\"path\":\"/var/opt/chef-backend\",\"ok\":true,\"free_mb\":9}]}");
        StringWriter out = new StringWriter();
        StatusTable.print(new PrintWriter(out), status, List.of(svc("elasticsearch", true, 6661, 106983),
                svc("etcd", true, 6742, 106981), svc("postgresql", false, 0, 5)), true, NOW);
        assertEquals(String.join("\n",
                "Service        Local Status        Time in State  Distributed Node Status",
                "elasticsearch  running (pid 6661)  1d 5h 43m 3s   state: green; nodes online: 1/1",
                "etcd           running (pid 6742)  1d 5h 43m 1s   health: green; healthy nodes: 1/1",
                "postgresql     down                0d 0h 0m 5s    not part of a cluster; local: accepting connections",
                "",
                "System  Local Status                                          Distributed Node Status",
                "disks   /var/log/chef-backend: OK; /var/opt/chef-backend: OK  health: green; healthy nodes: 1/1",
                ""), out.toString());
    }

    @Test
    void runitLines() throws Exception {
        assertEquals("run: etcd: (pid 7) 12s", ServiceLines.runitLine(svc("etcd", true, 7, 12), NOW));
        assertEquals("down: etcd: 393s, normally up, want up", ServiceLines.runitLine(svc("etcd", false, 0, 393), NOW));
    }

    @Test
    void leaderlShowsTheSynchronousStandbyOrThatNoneMayBeElected() throws Exception {
        JsonNode sync = JSON.readTree("{\"in_cluster\":true,\"leaderl\":{\"synchronous_standby\":\"be2\"}}");
        JsonNode degraded = JSON.readTree("{\"in_cluster\":true,\"leaderl\":{\"synchronous_standby\":null}}");
        JsonNode async = JSON.readTree("{\"in_cluster\":true,\"leaderl\":{}}");
        JsonNode cluster = JSON.readTree("{\"nodes\":[{\"role\":\"leader\"},{\"role\":\"follower\"}]}");
        assertEquals("leader: 1; waiting: 0; follower: 1; total: 2; synchronous standby: be2",
                StatusTable.distributed(sync, cluster, "leaderl"));
        assertEquals("leader: 1; waiting: 0; follower: 1; total: 2; synchronous mode: no synchronous standby, no"
                + " automatic failover", StatusTable.distributed(degraded, cluster, "leaderl"));
        assertEquals("leader: 1; waiting: 0; follower: 1; total: 2", StatusTable.distributed(async, cluster, "leaderl"));
    }

    /** A member stopped on purpose is counted as such, not left out of every count but the total. */
    @Test
    void leaderlCountsStoppedMembers() throws Exception {
        JsonNode cluster = JSON.readTree("{\"nodes\":[{\"role\":\"stopped\"},{\"role\":\"leader\"},"
                + "{\"role\":\"follower\"}]}");
        assertEquals("leader: 1; waiting: 0; follower: 1; stopped: 1; total: 3",
                StatusTable.distributed(JSON.readTree("{\"in_cluster\":true,\"leaderl\":{}}"), cluster, "leaderl"));
    }
}
