package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.chefbackend.system.DebianComponents;
import org.chefbackend.system.Distribution;
import org.chefbackend.system.VersionManifest;
import org.junit.jupiter.api.Test;

class VersionCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path HOME = Path.of("/opt/chef-backend");
    static final DebianComponents.Required PG = DebianComponents.REQUIRED.get(0);
    static final DebianComponents.Required ETCDCTL = DebianComponents.REQUIRED.get(2);

    static VersionManifest.Result manifest() throws Exception {
        return new VersionManifest.Result(HOME.resolve("version-manifest.json"), JSON.readTree("""
                {"manifest_format": 2, "build_version": "1.0.0",
                 "software": {"opensearch": {"locked_version": "2.19.1", "source": "Maven Central: zip"},
                              "chef-backend": {"locked_version": "1.0.0", "source": "this build"}},
                 "requires": {"postgresql-15": {"version_constraint": ">= 15, < 16", "bundled": false}}}"""), null);
    }

    static List<DebianComponents.Installed> installed() {
        return List.of(
                new DebianComponents.Installed(PG, "postgresql-15", "15.18-0+deb12u1", "15.18",
                        Path.of("/usr/lib/postgresql/15/bin/postgres"), null),
                new DebianComponents.Installed(ETCDCTL, "etcd-client", null, null, null,
                        "etcdctl not found; install the Debian package etcd-client (apt-get install etcd-client)"));
    }

    @Test
    void textShowsTheBundledComponentsAndDebiansAsInstalledNow() throws Exception {
        assertEquals(List.of(
                "chef-backend " + Distribution.version() + " (/opt/chef-backend)",
                "Bundled (/opt/chef-backend/version-manifest.json):",
                "Component     Version  Source",
                "opensearch    2.19.1   Maven Central: zip",
                "chef-backend  1.0.0    this build",
                "From Debian, installed now (apt upgrades these on its own; `status` names a service still running an"
                        + " old one):",
                "Package        Package version  Program version  Path",
                "postgresql-15  15.18-0+deb12u1  15.18            /usr/lib/postgresql/15/bin/postgres",
                "etcd-client    -                -                -",
                "etcd-client: etcdctl not found; install the Debian package etcd-client (apt-get install etcd-client)"),
                VersionCommand.text(HOME, manifest(), installed()));
    }

    @Test
    void withoutAManifestTextSaysSoInOneLineAndKeepsWhatTheClassesKnow() {
        VersionManifest.Result missing = new VersionManifest.Result(HOME.resolve("version-manifest.json"), null,
                "no version-manifest.json at /opt/chef-backend (a build tree before `mvn package`?)");
        List<String> lines = VersionCommand.text(HOME, missing, installed());
        assertEquals("bundled: no version-manifest.json at /opt/chef-backend (a build tree before `mvn package`?);"
                + " this build's classes say opensearch " + Distribution.opensearchVersion(), lines.get(1));
        JsonNode json = JSON.valueToTree(VersionCommand.json(missing, installed()));
        assertEquals(missing.problem(), json.path("manifest_problem").asText());
        assertEquals(Distribution.opensearchVersion(), json.at("/software/opensearch/locked_version").asText());
    }

    @Test
    void jsonIsTheManifestWithWhatIsInstalledNow() throws Exception {
        JsonNode json = JSON.valueToTree(VersionCommand.json(manifest(), installed()));
        assertEquals(2, json.path("manifest_format").asInt());
        assertEquals("2.19.1", json.at("/software/opensearch/locked_version").asText());
        assertFalse(json.at("/requires/postgresql-15/bundled").asBoolean(true));
        assertEquals("15.18-0+deb12u1", json.at("/installed/postgresql-15/package_version").asText());
        assertEquals("/usr/lib/postgresql/15/bin/postgres", json.at("/installed/postgresql-15/path").asText());
        assertFalse(json.at("/installed/postgresql-15").has("problem"));
        assertEquals(true, json.at("/installed/etcd-client/package_version").isNull());
        assertEquals(installed().get(1).problem(), json.at("/installed/etcd-client/problem").asText());
    }
}
