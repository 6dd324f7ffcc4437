package org.chefbackend.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;

/**
 * The libpq password file of the service user: the replication user and the superuser, for any host (the leader
 * moves). Streaming, pg_basebackup, pg_rewind and backups log in to the leader with it.
 */
public final class PgpassFile {
    private static final String PGPASS = "/var/opt/chef-backend/postgresql/.pgpass";

    private PgpassFile() {
    }

    static Path path(NodeContext node) {
        return node.paths().resolve(PGPASS);
    }

    /** Writes {@link #path} (service user, 0600; libpq ignores a file others can read). */
    public static Path write(NodeContext node) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        ServiceUsers.ensureUser(layout.user());
        Path file = path(node);
        PostgresRecipe.traversableParents(file);
        String text = line(node.settings().string("postgresql.replication_user"), node.secrets().replicationPassword())
                + line(node.settings().string("postgresql.db_superuser"), node.secrets().dbSuperuserPassword());
        ServiceUsers.writeOwned(file, text.getBytes(StandardCharsets.UTF_8), layout.user(), "rw-------");
        return file;
    }

    static String line(String user, String password) {
        return "*:*:*:" + escape(user) + ":" + escape(password) + "\n";
    }

    private static String escape(String field) {
        return field.replace("\\", "\\\\").replace(":", "\\:");
    }
}
