package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplacedFileLinesTest {
    static final Path ROOT = Path.of("/");

    static JsonNode status() throws Exception {
        return new ObjectMapper().readTree("""
                {"replaced_files": [
                  {"service": "agent", "pid": 10, "files": ["/opt/chef-backend/lib/chef-backend.jar"]},
                  {"service": "postgresql", "pid": 11, "files": ["/usr/lib/postgresql/15/bin/postgres",
                     "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]},
                  {"service": "etcd", "pid": 12, "files": ["/usr/bin/etcd", "/usr/lib/x86_64-linux-gnu/libc.so.6"]}]}""");
    }

    @Test
    void oneLinePerProcessNamingTheFileAndTheRestart() throws Exception {
        assertEquals(List.of(
                "agent: running an old /opt/chef-backend/lib/chef-backend.jar (replaced on disk since it started): "
                        + "restart it with: chef-backend-ctl stop && chef-backend-ctl start (its services restart with it)",
                "postgresql: running an old /usr/lib/postgresql/15/bin/postgres (replaced on disk since it started; "
                        + "2 more files too): restart it with: chef-backend-ctl restart postgresql",
                "etcd: running an old /usr/bin/etcd (replaced on disk since it started; 1 more file too): restart it "
                        + "with: chef-backend-ctl restart etcd"),
                ReplacedFileLines.lines(status(), null, ROOT, "chef-backend-ctl"));
    }

    @Test
    void aNamedServiceGetsOnlyItsOwnLineAndLeaderlTheAgents() throws Exception {
        assertEquals(List.of("etcd: running an old /usr/bin/etcd (replaced on disk since it started; 1 more file too):"
                + " restart it with: CHEF_BACKEND_ROOT=/tmp/node1 /x/bin/chef-backend-ctl restart etcd"),
                ReplacedFileLines.lines(status(), "etcd", Path.of("/tmp/node1"), "/x/bin/chef-backend-ctl"));
        assertEquals(1, ReplacedFileLines.lines(status(), "leaderl", ROOT, "chef-backend-ctl").size());
        assertEquals(List.of(), ReplacedFileLines.lines(status(), "elasticsearch", ROOT, "chef-backend-ctl"));
    }

    @Test
    void anAgentThatDoesNotReportItPrintsNothing() throws Exception {
        assertEquals(List.of(), ReplacedFileLines.lines(new ObjectMapper().readTree("{}"), null, ROOT, "c"));
    }
}
