package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ChefBackendCtlTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ChefBackendCtl.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsOnlyBuiltCommands() {
        Result r = run("--help");
        assertEquals(0, r.code());
        for (String cmd : COMMANDS) {
            assertTrue(cmd.contains(" ") || r.out().contains(cmd), cmd);
        }
        // not built yet, so not offered
        for (String cmd : new String[] {"upgrade", "down-for-upgrade", "gather-logs", "uninstall"}) {
            assertFalse(r.out().contains("  " + cmd + " "), cmd);
        }
    }

    @Test
    void eachCommandIsRegisteredUnderItsOwnName() {
        // a line naming one command registers only that one, under its key: the key must be the command's name
        ChefBackendCtl.COMMANDS.forEach((name, type) -> assertEquals(name,
                type.getAnnotation(CommandLine.Command.class).name(), type.getName()));
        Result one = run("status", "--help");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("Usage: chef-backend-ctl status"), one.out());
        Result typo = run("statsu");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("status"), "a typo gets picocli's suggestion among every command: " + typo.err());
    }

    static final String[] COMMANDS = {"gen-sample-backend-config", "show-config", "gen-server-config", "version",
        "reconfigure", "start", "stop", "restart", "status", "tail", "service-list", "agent", "create-cluster",
        "join-cluster", "remove-node", "cleanse", "cluster-status", "promote", "demote", "force-leader",
        "set-cluster-failover", "set-node-failover", "gen-haproxy-config", "demo", "demo up", "demo status",
        "demo down", "backup", "restore", "pgsql-follow", "rotate-secrets", "rotate-certificates", "rotate-ca"};

    @Test
    void recoveryCommandsRefuseBadInputInOneLine() {
        Result guard = run("pgsql-follow", "10.0.0.5", "--force-basebackup");
        assertEquals(2, guard.code());
        assertTrue(guard.err().contains("PSQL_INTERNAL_OK=true chef-backend-ctl pgsql-follow 10.0.0.5 --force-basebackup"),
                guard.err());
        assertEquals(1, guard.err().strip().lines().count(), guard.err());
        Result missing = run("restore", tmp.resolve("nope.tgz").toString(), "-y");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no backup file at " + tmp.resolve("nope.tgz")), missing.err());
        Result timeout = run("backup", "--timeout", "-5");
        assertEquals(2, timeout.code());
        assertTrue(timeout.err().contains("--timeout must be a positive number"), timeout.err());
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : COMMANDS) {
            List<String> args = new ArrayList<>(List.of(cmd.split(" ")));
            args.add("--help");
            Result r = run(args.toArray(String[]::new));
            assertEquals(0, r.code(), cmd);
            assertTrue(r.out().startsWith("Usage: chef-backend-ctl " + cmd), r.out());
        }
    }

    @Test
    void sampleFeedsShowConfig() throws IOException {
        Result sample = run("gen-sample-backend-config");
        assertEquals(0, sample.code());
        Path rb = tmp.resolve("x.rb");
        Files.writeString(rb, sample.out());
        Result show = run("show-config", "--config", rb.toString());
        assertEquals(0, show.code(), show.err());
        JsonNode json = new ObjectMapper().readTree(show.out());
        assertEquals(5432, json.at("/postgresql/port").asInt());
        assertEquals(52428800L, json.at("/leaderl/health_check/max_bytes_behind_leader").asLong());
        assertEquals("512MB", json.at("/rendered/postgresql.conf/wal_keep_size").asText());
    }

    @Test
    void brokenConfigIsOneLineWithPositionAndExitTwo() throws IOException {
        Path rb = tmp.resolve("chef-backend.rb");
        Files.writeString(rb, "publish_address '10.0.0.5'\npostgresql.port = 'x'\n");
        Result r = run("show-config", "--config", rb.toString());
        assertEquals(2, r.code());
        assertEquals("chef-backend-ctl: " + rb + ":2:19: postgresql.port: expected an integer from 1 to 65535, "
                + "got the string 'x'\n", r.err());
        assertEquals("", r.out());
    }

    @Test
    void syntaxErrorExitsTwo() throws IOException {
        Path rb = tmp.resolve("chef-backend.rb");
        Files.writeString(rb, "fqdn 'be1\n");
        Result r = run("show-config", "-c", rb.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("chef-backend-ctl: " + rb + ":1:"), r.err());
        assertEquals(1, r.err().lines().count());
    }

    @Test
    void missingExplicitConfigIsAnError() {
        Result r = run("show-config", "--config", tmp.resolve("nope.rb").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nope.rb:1:1: file does not exist"), r.err());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = run("show-config", "--frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unknown option: '--frobnicate'"), r.err());
    }

    @Test
    void genServerConfigUsesConfigAndSecrets() throws IOException {
        Path root = tmp.resolve("node");
        Files.createDirectories(root.resolve("etc/chef-backend"));
        // an address no test or demo runs an agent on: with one there, the members would be its cluster's
        Files.writeString(root.resolve("etc/chef-backend/chef-backend.rb"), "publish_address '127.0.0.250'\n");
        Secrets secrets = Secrets.generate(new SecureRandom());
        SecretsFile.write(root.resolve("etc/chef-backend/chef-backend-secrets.json"), secrets);

        Result r = run("gen-server-config", "fe1.example.com", "--root", root.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("chef_backend_members [\"127.0.0.250\"]\n"), r.out());
        assertTrue(r.out().contains("postgresql['db_superuser_password'] = '" + secrets.dbSuperuserPassword() + "'"));

        Path file = tmp.resolve("chef-server.rb.FE1");
        Result f = run("gen-server-config", "fe1.example.com", "-f", file.toString(), "--root", root.toString());
        assertEquals(0, f.code(), f.err());
        assertEquals(r.out(), Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void genServerConfigWithoutSecretsSaysSo() throws IOException {
        Path root = tmp.resolve("node");
        Files.createDirectories(root.resolve("etc/chef-backend"));
        Files.writeString(root.resolve("etc/chef-backend/chef-backend.rb"), "publish_address '127.0.0.2'\n");
        Result r = run("gen-server-config", "fe1", "--root", root.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("chef-backend-secrets.json does not exist"), r.err());
    }

    @Test
    void genServerConfigWithoutPublishAddressSaysSo() throws IOException {
        Path rb = tmp.resolve("etc/chef-backend/chef-backend.rb");
        Files.createDirectories(rb.getParent());
        Files.writeString(rb, "fqdn 'be1.example.com'\n");
        Result r = run("gen-server-config", "fe1", "--root", tmp.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("publish_address is not set in " + rb), r.err());
    }

    /** With no chef-backend.rb at all, a command says where it looked and how to point elsewhere, for each command. */
    @Test
    void aMissingChefBackendRbIsNamedWithTheWaysToPointElsewhere() {
        Path root = tmp.resolve("no-node-here");
        for (String[] args : List.of(new String[] {"status"}, new String[] {"cluster-status"}, new String[] {"stop"},
                new String[] {"start"}, new String[] {"demote"}, new String[] {"gen-server-config", "fe1"},
                new String[] {"gen-haproxy-config"}, new String[] {"create-cluster", "-y"})) {
            List<String> withRoot = new ArrayList<>(List.of(args));
            withRoot.addAll(List.of("--root", root.toString()));
            Result r = run(withRoot.toArray(String[]::new));
            String what = String.join(" ", args) + ": " + r.err();
            assertEquals(2, r.code(), what);
            assertTrue(r.err().startsWith("chef-backend-ctl: no chef-backend.rb at "
                    + root.resolve("etc/chef-backend/chef-backend.rb") + ";"), what);
            assertTrue(r.err().contains("--root DIR or CHEF_BACKEND_ROOT=DIR"), what);
            assertFalse(r.err().contains("publish_address"), what);
            assertEquals(1, r.err().strip().lines().count(), what);
        }
    }

    /** promote's refusal of a deposed leader names the commands for that node as they can be pasted. */
    @Test
    void theReinstateHintNamesThatNodesRoot() {
        assertEquals("cannot promote be1: it is a deposed leader and its safety lock no-start-pgsql is in place; to "
                + "reinstate it, on be1 run: rm /tmp/d/node1/var/opt/chef-backend/leaderl/data/no-start-pgsql; "
                + "CHEF_BACKEND_ROOT=/tmp/d/node1 /opt/cb/bin/chef-backend-ctl restart postgresql; then promote it again",
                IntentCommands.reinstateHint("be1", Path.of("/tmp/d/node1"), "/opt/cb/bin/chef-backend-ctl"));
        assertTrue(IntentCommands.reinstateHint("be1", Path.of("/"), "chef-backend-ctl").endsWith(
                "rm /var/opt/chef-backend/leaderl/data/no-start-pgsql; chef-backend-ctl restart postgresql; then "
                        + "promote it again"));
    }

    /** A member whose agent is stopped is called stopped, with the command that starts it, as it can be pasted. */
    @Test
    void aStoppedMemberIsCalledStoppedWithTheCommandThatStartsIt() throws IOException {
        Path root = tmp.resolve("node");
        Files.createDirectories(root.resolve("etc/chef-backend"));
        // an address no test or demo runs an agent on: nothing answers there
        Files.writeString(root.resolve("etc/chef-backend/chef-backend.rb"), "publish_address '127.0.0.250'\n");
        Result loner = run("cluster-status", "--root", root.toString());
        assertEquals(1, loner.code(), loner.err());
        assertTrue(loner.err().contains("is in no cluster: make it the first member with CHEF_BACKEND_ROOT=" + root
                + " chef-backend-ctl create-cluster"), loner.err());

        ClusterFile.creating().asMember().write(new NodePaths(root));
        String stopped = "this node (" + root + ") is stopped: its node agent is not running; start it with: "
                + "CHEF_BACKEND_ROOT=" + root + " chef-backend-ctl start";
        for (String command : new String[] {"cluster-status", "demote", "set-node-failover"}) {
            Result r = command.equals("set-node-failover")
                    ? run(command, "on", "--root", root.toString()) : run(command, "--root", root.toString());
            assertEquals(1, r.code(), command + ": " + r.err());
            assertEquals("chef-backend-ctl: " + stopped + "\n", r.err(), command);
            assertFalse(r.err().contains("not an active cluster member"), r.err());
        }
        Result status = run("status", "--root", root.toString());
        assertEquals(3, status.code(), status.err());
        assertTrue(status.out().contains("postgresql: down (the node agent is not running)"), status.out());
        assertEquals(stopped + "\n", status.err());
    }

    @Test
    void versionListsComponents() throws IOException {
        Result r = run("version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("chef-backend "), r.out());
        // the Debian packages are read on this machine: installed or not, each has its row
        for (String c : new String[] {"postgresql-15", "etcd-server", "etcd-client", "pgbackrest"}) {
            assertTrue(r.out().contains("\n" + c + " "), c + " in " + r.out());
        }
        JsonNode manifest = new ObjectMapper().readTree(run("version", "--json").out());
        assertEquals(2, manifest.get("manifest_format").asInt());
        // from version-manifest.json after `mvn package`, else from the classes
        assertTrue(manifest.at("/software/opensearch/locked_version").asText().startsWith("2."));
        assertTrue(manifest.at("/installed/etcd-server").has("package_version"), manifest.toString());
    }

    @Test
    void genHaproxyConfigWithoutAClusterListsThisNodeAndSaysSo() throws IOException {
        Path root = tmp.resolve("node");
        Files.createDirectories(root.resolve("etc/chef-backend"));
        Files.writeString(root.resolve("etc/chef-backend/chef-backend.rb"), "publish_address '127.0.0.39'\n");
        Result r = run("gen-haproxy-config", "--listen", "127.0.0.1", "--postgresql-port", "15432",
                "--elasticsearch-port", "19200", "--root", root.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("    bind 127.0.0.1:15432\n"), r.out());
        assertTrue(r.out().contains("    server backend0 127.0.0.39:5432 check port 7331\n"), r.out());
        assertTrue(r.out().contains("    server backend0 127.0.0.39:9200 check port 7331\n"), r.out());
        assertTrue(r.err().contains("no live cluster answered"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void genHaproxyConfigBadPortIsOneLineExitTwo() throws IOException {
        Path root = tmp.resolve("node");
        Files.createDirectories(root.resolve("etc/chef-backend"));
        Files.writeString(root.resolve("etc/chef-backend/chef-backend.rb"), "publish_address '127.0.0.39'\n");
        Result r = run("gen-haproxy-config", "--postgresql-port", "70000", "--root", root.toString());
        assertEquals(2, r.code());
        assertEquals("chef-backend-ctl: --postgresql-port must be a port from 1 to 65535, got 70000\n", r.err());
        Result same = run("gen-haproxy-config", "--elasticsearch-port", "5432", "--root", root.toString());
        assertEquals(2, same.code());
        Result listen = run("gen-haproxy-config", "--listen", "a b", "--root", root.toString());
        assertEquals(2, listen.code());
        assertEquals(1, listen.err().lines().count(), listen.err());
    }

    @Test
    void demoRefusesBadInputInOneLineAndChangesNothing() throws IOException {
        Path dir = tmp.resolve("demo");
        Result remote = run("demo", "up", "--dir", dir.toString(), "--nodes", "10.0.0.1,127.0.0.38");
        assertEquals(2, remote.code());
        assertEquals("chef-backend-ctl: node address 10.0.0.1 is not an IPv4 loopback address (127.x.y.z)\n", remote.err());
        Result twice = run("demo", "up", "--dir", dir.toString(), "--nodes", "127.0.0.38,127.0.0.38");
        assertEquals(2, twice.code());
        assertEquals(1, twice.err().lines().count(), twice.err());
        Result ports = run("demo", "up", "--dir", dir.toString(), "--nodes", "127.0.0.38", "--postgresql-port", "19200");
        assertEquals(2, ports.code());
        assertFalse(Files.exists(dir), "a refused demo up created " + dir);

        Result status = run("demo", "status", "--dir", dir.toString());
        assertEquals(1, status.code());
        assertEquals("chef-backend-ctl: no demo in " + dir + " (start one with 'chef-backend-ctl demo up')\n", status.err());
        Result down = run("demo", "down", "--dir", dir.toString());
        assertEquals(0, down.code(), down.err());
        assertTrue(down.out().contains("nothing to do"), down.out());

        Files.createDirectories(dir);
        Files.writeString(dir.resolve("keep"), "x");
        Result notDemo = run("demo", "up", "--dir", dir.toString(), "--nodes", "127.0.0.38");
        assertEquals(2, notDemo.code());
        assertTrue(notDemo.err().contains("exists and is not a demo"), notDemo.err());
        Result notDemoDown = run("demo", "down", "--dir", dir.toString());
        assertEquals(2, notDemoDown.code());
        assertTrue(Files.exists(dir.resolve("keep")), "demo down removed a directory that is not a demo");
    }

    @Test
    void demoUpOnAnExistingDemoSaysSoInOneLine() throws IOException {
        Path dir = tmp.resolve("demo");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("demo.json"), "{\"nodes\": []}");
        Result r = run("demo", "up", "--dir", dir.toString(), "--nodes", "127.0.0.38");
        assertEquals(1, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("chef-backend-ctl: a demo already exists in " + dir), r.err());
        assertEquals("{\"nodes\": []}", Files.readString(dir.resolve("demo.json")));
    }
}
