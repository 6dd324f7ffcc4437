package org.chefbackend.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChefServerRbTest {
    static String golden(String name) throws IOException {
        try (InputStream in = ChefServerRbTest.class.getResourceAsStream("/golden/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void matchesTheGoldenFile() throws IOException {
        String password = "0123456789abcdef".repeat(6) + "0123";
        String actual = ChefServerRb.render("frontend1.example.com", List.of("10.0.1.4", "10.0.1.5", "10.0.1.6"),
                5432, 9200, "chef_pgsql", password);
        assertEquals(golden("chef-server.rb"), actual);
    }

    @Test
    void quotesWhatItEmbeds() {
        String out = ChefServerRb.render("fe\"1", List.of("10.0.0.1"), 5433, 9201, "chef_pgsql", "pa'ss");
        assertEquals(true, out.contains("fqdn \"fe\\\"1\"\n"));
        assertEquals(true, out.contains("postgresql['db_superuser_password'] = 'pa\\'ss'\n"));
        assertEquals(true, out.contains("haproxy['remote_postgresql_port'] = 5433\n"));
        assertEquals(true, out.contains("haproxy['remote_elasticsearch_port'] = 9201\n"));
    }
}
