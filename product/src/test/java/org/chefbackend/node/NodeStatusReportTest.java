package org.chefbackend.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.agent.ServiceStatus;
import org.junit.jupiter.api.Test;

class NodeStatusReportTest {
    static ServiceStatus running(String name, long pid) {
        return new ServiceStatus(name, true, true, pid, 0, true, true, null, 0);
    }

    @Test
    void replacedFilesArePerProcessTheAgentOnceAndOnlyWhereAnyWereReplaced() {
        Map<Long, List<String>> replaced = Map.of(
                10L, List.of("/opt/chef-backend/lib/chef-backend.jar"),
                11L, List.of("/usr/lib/postgresql/15/bin/postgres"),
                12L, List.of());
        List<ServiceStatus> services = List.of(running("elasticsearch", 12), running("etcd", 13),
                running("leaderl", 10), running("postgresql", 11),
                new ServiceStatus("stopped", true, false, 0, 0, false, true, null, 0));
        // 13 is unreadable (empty): left out, as is the stopped service, and leaderl shares the agent's pid
        List<Map<String, Object>> report = NodeStatusReport.replaced(services, 10,
                pid -> Optional.ofNullable(replaced.get(pid)));
        assertEquals(List.of(
                Map.of("service", "agent", "pid", 10L, "files", List.of("/opt/chef-backend/lib/chef-backend.jar")),
                Map.of("service", "postgresql", "pid", 11L, "files", List.of("/usr/lib/postgresql/15/bin/postgres"))),
                report);
    }
}
