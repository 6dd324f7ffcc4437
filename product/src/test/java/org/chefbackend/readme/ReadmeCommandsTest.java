package org.chefbackend.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** README.md's commands, checked without running them; and the checks themselves, on READMEs with a mistake. */
class ReadmeCommandsTest {
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath().normalize();

    static String readme() throws Exception {
        return Files.readString(REPO.resolve("README.md"));
    }

    @Test
    void everyCommandInReadmeParsesAndNamesOnlyRealCommandsAndOptions() throws Exception {
        List<String> problems = ReadmeCheck.problems(readme());
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** The checks must see something: the demo's whole run and the install's steps are in README's blocks. */
    @Test
    void readmeHoldsTheDemoRunAndTheInstallSteps() throws Exception {
        List<String> demo = ReadmeCommands.demoCommands(readme()).stream().map(ReadmeCommands.Command::text).toList();
        assertEquals("bin/install-deps && bin/demo up", demo.get(0));
        assertTrue(demo.contains("bin/demo down"), demo.toString());
        assertTrue(demo.contains("CHEF_BACKEND_ROOT=/tmp/chef-backend-demo/node1 bin/chef-backend-ctl stop"), demo.toString());
        assertTrue(demo.contains("CHEF_BACKEND_ROOT=/tmp/chef-backend-demo/node1 bin/chef-backend-ctl start"), demo.toString());
        List<String> hosts = ReadmeCommands.hostCommands(readme()).stream()
                .map(c -> c.prompt() + " " + c.text()).toList();
        for (String step : List.of("node1# apt-get install ./chef-backend_*_all.deb",
                "node1# chef-backend-ctl create-cluster",
                "node2# chef-backend-ctl join-cluster 10.0.0.1 -s /tmp/chef-backend-secrets.json",
                "node1# chef-backend-ctl gen-server-config chef.example.com -f chef-server.rb")) {
            assertTrue(hosts.contains(step), step + " not in " + hosts);
        }
    }

    @Test
    void aMisspeltOptionIsFound() throws Exception {
        List<String> problems = ReadmeCheck.problems(
                "intro\n\n```console\nnode2# chef-backend-ctl join-cluster 10.0.0.1 --secret-file /tmp/s.json\n```\n");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("README.md:4: node2# chef-backend-ctl join-cluster"), problems.get(0));
        assertTrue(problems.get(0).contains("--secret-file"), problems.get(0));
    }

    @Test
    void anUnknownSubcommandAMissingArgumentAndAnExtraOneAreFound() throws Exception {
        String md = "```sh\nCHEF_BACKEND_ROOT=/tmp/n1 bin/chef-backend-ctl craete-cluster\n"
                + "bin/chef-backend-ctl promote\n"
                + "timeout 9 sh -c 'until bin/chef-backend-ctl status postgresql etcd; do sleep 1; done'\n"
                + "bin/demo up --postgres-port 1\n```\n";
        List<String> problems = ReadmeCheck.problems(md);
        assertEquals(4, problems.size(), String.join("\n", problems));
        assertTrue(problems.get(0).contains("craete-cluster"), problems.get(0));
        assertTrue(problems.get(1).contains("NODE"), problems.get(1));
        assertTrue(problems.get(2).startsWith("README.md:4:") && problems.get(2).contains("etcd"), problems.get(2));
        assertTrue(problems.get(3).contains("--postgres-port"), problems.get(3));
    }

    @Test
    void theRightCommandsPass() throws Exception {
        String md = "```sh\nCHEF_BACKEND_ROOT=/tmp/n1 bin/chef-backend-ctl status >/dev/null 2>&1   # exits 3\n"
                + "PGPASSWORD=<printed by demo up> psql -c 'select 1'\n"
                + "bin/demo up --postgresql-port 25432\n```\n\n"
                + "```console\n$ mvn -B verify \\\n    -Dit.test=FailoverIT\nsome output\n"
                + "node1# PSQL_INTERNAL_OK=true chef-backend-ctl pgsql-follow 10.0.0.1 --force-basebackup\n```\n\n"
                + "```ruby\npublish_address '10.0.0.1'\n```\n";
        assertEquals(List.of(), ReadmeCheck.problems(md));
    }

    @Test
    void aShellSyntaxErrorAnUnknownPlaceholderABadChefBackendRbAndADeadLinkAreFound() throws Exception {
        String md = "See [the start](#quick-start).\n\n## Quick\n\n```console\n$ echo 'unclosed\n```\n\n"
                + "```sh\nPGPASSWORD=<the password> psql\n```\n\n```ruby\npublish_adress '10.0.0.1'\n```\n";
        List<String> problems = ReadmeCheck.problems(md);
        assertEquals(4, problems.size(), String.join("\n", problems));
        assertTrue(problems.get(0).startsWith("README.md:10:") && problems.get(0).contains("<the password>"),
                problems.get(0));
        assertTrue(problems.get(1).startsWith("README.md:6: $ echo") && problems.get(1).contains("does not parse"),
                problems.get(1));
        assertTrue(problems.get(2).contains("publish_adress"), problems.get(2));
        assertEquals("README.md:1: no section for the link #quick-start", problems.get(3));
    }

    @Test
    void commandsComeWithTheirLinesHostsAndExpectedExits() {
        String md = "a\n```sh\n# a comment\nbin/demo status\nbin/chef-backend-ctl status   # exits 3: stopped\n\n"
                + "mvn -B verify \\\n  -Dit.test=X\n```\n```console\nnode2# chef-backend-ctl stop\nok: down\n"
                + "$ ls\n```\n";
        assertEquals(List.of(new ReadmeCommands.Command(4, null, "bin/demo status", 0),
                new ReadmeCommands.Command(5, null, "bin/chef-backend-ctl status   # exits 3: stopped", 3),
                new ReadmeCommands.Command(7, null, "mvn -B verify    -Dit.test=X", 0)),
                ReadmeCommands.demoCommands(md));
        assertEquals(List.of(new ReadmeCommands.Command(11, "node2#", "chef-backend-ctl stop", 0),
                new ReadmeCommands.Command(13, "$", "ls", 0)), ReadmeCommands.hostCommands(md));
    }

    @Test
    void aBlockInAnotherShellLanguageOrNeverClosedIsRefused() {
        IllegalArgumentException bash = assertThrows(IllegalArgumentException.class,
                () -> ReadmeCommands.blocks("x\n```bash\nls\n```\n"));
        assertEquals("README.md:2: a ```bash block: write ```sh (run against the demo) or ```console (for hosts, with "
                + "prompts)", bash.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReadmeCommands.blocks("```sh\nls\n"));
    }

    @Test
    void placeholdersAreFilledAndAMissingValueIsNamed() {
        ReadmeCommands.Command c = new ReadmeCommands.Command(3, null, "PGPASSWORD=<printed by demo up> psql", 0);
        assertEquals("PGPASSWORD=s3cret psql", ReadmeCommands.fill(c, Map.of("<printed by demo up>", "s3cret")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadmeCommands.fill(c, Map.of()));
        assertTrue(e.getMessage().contains("<printed by demo up>"), e.getMessage());
    }

    @Test
    void shellWordsSplitCommandsDropRedirectionsAndKeepTheComment() {
        ShellWords w = ShellWords.split("A=1 x 'a b' \"c\\\"d\" e\\ f >/dev/null 2>&1 && y < in | z # note");
        assertEquals(List.of(List.of("A=1", "x", "a b", "c\"d", "e f"), List.of("y"), List.of("z")), w.commands());
        assertEquals("note", w.comment());
        assertEquals(List.of(List.of("sh", "-c", "until a; do b; done")),
                ShellWords.split("sh -c 'until a; do b; done'").commands());
    }
}
