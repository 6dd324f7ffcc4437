package org.chefbackend.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.chefbackend.system.FileTrees;

/** One plain PostgreSQL 15 (no replication, no proxy) with the same parameters: the throughput baseline. */
public final class DirectPostgres implements AutoCloseable {
    private final Path root;
    private final String address;
    private final String password = PatroniCluster.hex(24);

    public DirectPostgres(Path root, String address) {
        this.root = root;
        this.address = address;
    }

    public String address() {
        return address;
    }

    public String password() {
        return password;
    }

    public void start(Map<String, String> parameters) throws IOException {
        close();
        FileTrees.deleteTree(root);
        Files.createDirectories(root.resolve("run"));
        Files.writeString(root.resolve("pw"), password + "\n");
        Procs.chownR(root, PatroniCluster.PG_USER);
        Path data = root.resolve("data");
        Procs.Result init = Procs.run(Duration.ofSeconds(120), Map.of(), Procs.as(PatroniCluster.PG_USER,
                PatroniCluster.PG_BIN + "/initdb", "-D", data.toString(), "-U", PatroniCluster.PG_USER,
                "--pwfile=" + root.resolve("pw"), "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8"));
        if (init.code() != 0) {
            throw new IllegalStateException("initdb: " + init.all());
        }
        StringBuilder conf = new StringBuilder("\n# benchmark baseline: chef-backend's rendered parameters\n");
        parameters.forEach((k, v) -> {
            if (!k.equals("port")) {
                conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n");
            }
        });
        conf.append("listen_addresses = '").append(address).append("'\nunix_socket_directories = '")
                .append(root.resolve("run")).append("'\n");
        Files.writeString(data.resolve("postgresql.conf"), Files.readString(data.resolve("postgresql.conf")) + conf);
        Files.writeString(data.resolve("pg_hba.conf"), Files.readString(data.resolve("pg_hba.conf"))
                + "host all all 127.0.0.0/8 scram-sha-256\n");
        Procs.Result start = Procs.run(Duration.ofSeconds(120), Map.of(), Procs.as(PatroniCluster.PG_USER,
                PatroniCluster.PG_BIN + "/pg_ctl", "-D", data.toString(), "-l", root.resolve("postgresql.log").toString(),
                "-w", "-t", "60", "start"));
        if (start.code() != 0) {
            throw new IllegalStateException("pg_ctl start: " + start.all());
        }
    }

    @Override
    public void close() {
        Procs.terminate(Procs.under(root), Duration.ofSeconds(30));
    }

    public List<Long> processes() {
        return Procs.under(root);
    }
}
