package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/chef-backend-ctl as an operator runs it, against the assembled distribution. */
class BinScriptIT {
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", ".."));

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    Run ctl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(REPO.resolve("bin/chef-backend-ctl").toString()));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("CHEF_BACKEND_ROOT", tmp.resolve("root").toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void sampleThenShowConfig() throws Exception {
        Run sample = ctl("gen-sample-backend-config");
        assertEquals(0, sample.code(), sample.err());
        Path rb = tmp.resolve("x.rb");
        Files.writeString(rb, sample.out());
        Run show = ctl("show-config", "--config", rb.toString());
        assertEquals(0, show.code(), show.err());
        assertTrue(show.out().contains("\"leader_ttl_seconds\" : 30"), show.out());
    }

    @Test
    void brokenConfigExitsTwoWithoutStackTrace() throws Exception {
        Path rb = tmp.resolve("bad.rb");
        Files.writeString(rb, "# comment\npostgresql.max_conections = 100\n");
        Run r = ctl("show-config", "--config", rb.toString());
        assertEquals(2, r.code());
        assertEquals("chef-backend-ctl: " + rb + ":2:1: unknown setting 'postgresql.max_conections'; "
                + "did you mean 'postgresql.max_connections'?\n", r.err());
    }

    @Test
    void helpWorks() throws Exception {
        Run r = ctl("--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gen-server-config"));
    }
}
