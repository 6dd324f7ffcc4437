package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandbyConfigTest {
    static final Secrets SECRETS = Secrets.generate(new SecureRandom());

    @TempDir
    Path root;

    NodeContext node(String name) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.26'\n"),
                new MachineFacts(4L << 30, name));
        return new NodeContext(settings, new NodePaths(root), name, "0123456789abcdef0123456789abcdef", SECRETS);
    }

    @Test
    void postgresqlConfIncludesStandbyConfThenSynchronousConfLast() {
        List<String> lines = PostgresRecipe.renderPostgresqlConf(node("n1")).lines().toList();
        assertEquals("include_if_exists = 'standby.conf'", lines.get(lines.size() - 2));
        assertEquals("include_if_exists = 'synchronous.conf'", lines.get(lines.size() - 1));
    }

    @Test
    void standbyConfPointsAtTheLeaderThroughTheSlot() {
        NodeContext n = node("be-2.example.com");
        Map<String, String> p = PostgresqlConf.parse(StandbyConfig.render(n, "127.0.0.25", 5432, "cb_x"));
        assertEquals("host=127.0.0.25 port=5432 user=replicator passfile="
                + root.resolve("var/opt/chef-backend/postgresql/.pgpass")
                + " sslmode=require application_name=be-2.example.com connect_timeout=5", p.get("primary_conninfo"));
        assertEquals("cb_x", p.get("primary_slot_name"));
        assertEquals("latest", p.get("recovery_target_timeline"));
        assertEquals("on", p.get("hot_standby_feedback"));
    }

    @Test
    void aNodeWithTheClusterCaVerifiesTheLeaderAgainstTheBundle() {
        NodeContext n = new NodeContext(node("be-2").settings(), new NodePaths(root), "be-2",
                "0123456789abcdef0123456789abcdef", SECRETS.withCa(PeerTlsTest.ca()));
        Map<String, String> p = PostgresqlConf.parse(StandbyConfig.render(n, "127.0.0.25", 5432, "cb_x"));
        assertEquals("host=127.0.0.25 port=5432 user=replicator passfile="
                + root.resolve("var/opt/chef-backend/postgresql/.pgpass")
                + " sslmode=verify-full sslrootcert=" + root.resolve("var/opt/chef-backend/postgresql/root.crt")
                + " application_name=be-2 connect_timeout=5", p.get("primary_conninfo"));
    }

    @Test
    void conninfoValuesAreQuotedOnlyWhenNeeded() {
        assertEquals("127.0.0.1", StandbyConfig.conninfoValue("127.0.0.1"));
        assertEquals("'a b'", StandbyConfig.conninfoValue("a b"));
        assertEquals("'it\\'s'", StandbyConfig.conninfoValue("it's"));
        assertEquals("'c:\\\\x'", StandbyConfig.conninfoValue("c:\\x"));
        assertEquals("''", StandbyConfig.conninfoValue(""));
    }
}
