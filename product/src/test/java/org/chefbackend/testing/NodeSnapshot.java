package org.chefbackend.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a refused change must leave as it was: the agent's and every service's pid, the rendered configuration files'
 * content, the node's HA role and the publish_address the agent works with.
 */
public record NodeSnapshot(Map<String, Long> pids, Map<String, String> files, String role, String publishAddress) {
    public static final List<String> RENDERED_FILES = List.of(
            "var/opt/chef-backend/postgresql/15/data/postgresql.conf",
            "var/opt/chef-backend/postgresql/15/data/pg_hba.conf",
            "var/opt/chef-backend/elasticsearch/config/opensearch.yml",
            "var/opt/chef-backend/elasticsearch/config/jvm.options",
            "var/opt/chef-backend/elasticsearch/config/unicast_hosts.txt",
            "var/opt/chef-backend/etcd/etcd.launch.json");

    public static NodeSnapshot of(TestNode node) throws IOException {
        JsonNode status = node.status().orElseThrow(() -> new AssertionError(node.address + "'s agent does not answer"));
        Map<String, Long> pids = new TreeMap<>();
        pids.put("agent", status.path("agent").path("pid").asLong());
        for (JsonNode s : status.path("services")) {
            pids.put(s.path("name").asText(), s.path("running").asBoolean() ? s.path("pid").asLong() : 0L);
        }
        Map<String, String> files = new TreeMap<>();
        for (String file : RENDERED_FILES) {
            Path p = node.root.resolve(file);
            files.put(file, Files.exists(p) ? Files.readString(p) : "(absent)");
        }
        return new NodeSnapshot(pids, files, status.path("leaderl").path("state").asText(),
                status.path("node").path("publish_address").asText());
    }
}
