package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsFileTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("etc/chef-backend/chef-backend-secrets.json");
    }

    @Test
    void generatedValuesHaveTheRightShapeAndDiffer() {
        Secrets a = Secrets.generate(RANDOM);
        Secrets b = Secrets.generate(RANDOM);
        assertTrue(a.dbSuperuserPassword().matches("[0-9a-f]{100}"), a.dbSuperuserPassword());
        assertTrue(a.replicationPassword().matches("[0-9a-f]{100}"));
        assertTrue(a.etcdInitialClusterToken().matches("[0-9a-f]{32}"));
        assertTrue(a.elasticsearchClusterName().matches("chef-backend-[0-9a-f]{16}"));
        assertNotEquals(a.dbSuperuserPassword(), a.replicationPassword());
        assertNotEquals(a.dbSuperuserPassword(), b.dbSuperuserPassword());
        assertNotEquals(a.replicationPassword(), b.replicationPassword());
        assertNotEquals(a.etcdInitialClusterToken(), b.etcdInitialClusterToken());
        assertNotEquals(a.elasticsearchClusterName(), b.elasticsearchClusterName());
        assertNotEquals(a, b);
    }

    @Test
    void jsonHasTheDocumentedShapeInStableOrder() {
        Secrets s = new Secrets("su", "repl", "tok", "name");
        assertEquals("""
                {
                  "postgresql": {
                    "db_superuser_password": "su",
                    "replication_password": "repl"
                  },
                  "etcd": {
                    "initial_cluster_token": "tok"
                  },
                  "elasticsearch": {
                    "cluster_name": "name"
                  }
                }
                """, s.toJson());
    }

    @Test
    void roundTrip() {
        Secrets s = Secrets.generate(RANDOM);
        SecretsFile.write(file(), s);
        assertEquals(s, SecretsFile.load(file()));
        assertEquals(s.hashCode(), SecretsFile.load(file()).hashCode());
    }

    @Test
    void rootOnlyWhateverGroupsExist() throws IOException {
        SecretsFile.write(file(), Secrets.generate(RANDOM));
        assertEquals("rw-------", mode(file()));
        assertEquals("rwxr-xr-x", mode(file().getParent())); // created parent
    }

    @Test
    void restrictNarrowsAFileAnEarlierVersionLeftGroupReadable() throws IOException {
        SecretsFile.write(file(), Secrets.generate(RANDOM));
        GroupPrincipal daemon = FileSystems.getDefault().getUserPrincipalLookupService()
                .lookupPrincipalByGroupName("daemon");
        Files.getFileAttributeView(file(), PosixFileAttributeView.class).setGroup(daemon);
        Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString("rw-r-----"));
        SecretsFile.restrict(file());
        assertEquals("rw-------", mode(file()));
        assertEquals("root", attrs(file()).group().getName());
    }

    @Test
    void theClusterCaRoundTripsAndAFileWithoutOneStillLoads() throws IOException {
        ClusterCa ca = new ClusterCa("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
        Secrets with = Secrets.generate(RANDOM).withCa(ca);
        SecretsFile.write(file(), with);
        assertEquals(with, SecretsFile.load(file()));
        assertFalse(with.toString().contains("MIIE"));
        // the derived keys do not depend on the CA: adding one to an open cluster's secrets changes no password
        assertArrayEquals(with.withCa(null).adminKey(), with.adminKey());
        assertEquals(with.withCa(null).etcdPassword("root"), with.etcdPassword("root"));
        assertNotEquals(with.etcdPassword("root"), with.etcdPassword("chef-backend"));
        Files.writeString(file(), Files.readString(file()).replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY"));
        SecretsException e = assertThrows(SecretsException.class, () -> SecretsFile.load(file()));
        assertTrue(e.getMessage().contains("ca.key must be an unencrypted PKCS#8 PEM key"), e.getMessage());
        assertFalse(e.getMessage().contains("MIIE"), e.getMessage());
    }

    @Test
    void theValuesKeptOutOfLogsAreEveryPasswordTokenAndKeyButNotTheSearchClusterName() {
        Secrets s = Secrets.generate(RANDOM);
        assertEquals(List.of(s.dbSuperuserPassword(), s.replicationPassword(), s.etcdInitialClusterToken(),
                s.etcdPassword(Secrets.ETCD_ROOT_USER), s.etcdPassword(Secrets.ETCD_CLUSTER_USER),
                HexFormat.of().formatHex(s.adminKey()), s.repositoryCipherPass()), s.accessValues());
        assertFalse(s.accessValues().contains(s.elasticsearchClusterName()));
    }

    @Test
    void noTempFilesLeftAndExistingFileReplacedAtomically() throws IOException {
        Secrets first = Secrets.generate(RANDOM);
        Secrets second = Secrets.generate(RANDOM);
        SecretsFile.write(file(), first);
        Object firstInode = attrs(file()).fileKey();
        SecretsFile.write(file(), second);
        assertEquals(second, SecretsFile.load(file()));
        // A new inode renamed into place, not the old file rewritten in place.
        assertNotEquals(firstInode, attrs(file()).fileKey());
        assertEquals(List.of("chef-backend-secrets.json"), names(file().getParent()));
    }

    @Test
    void failedWriteLeavesNoTempFile() throws IOException {
        // The target is a non-empty directory, so the final rename fails.
        Path target = dir.resolve("chef-backend-secrets.json");
        Files.createDirectories(target.resolve("x"));
        SecretsException e = assertThrows(SecretsException.class,
                () -> SecretsFile.write(target, Secrets.generate(RANDOM)));
        assertTrue(e.getMessage().startsWith("cannot write secrets file " + target), e.getMessage());
        assertEquals(List.of("chef-backend-secrets.json"), names(dir));
    }

    @Test
    void loadOrGenerateReusesExistingFileElseCreatesOne() {
        Secrets generated = SecretsFile.loadOrGenerate(file());
        assertEquals(generated, SecretsFile.load(file()));
        assertEquals(generated, SecretsFile.loadOrGenerate(file()));

        Path preplaced = dir.resolve("pre/chef-backend-secrets.json");
        Secrets seeded = new Secrets("a", "b", "c", "d");
        SecretsFile.write(preplaced, seeded);
        assertEquals(seeded, SecretsFile.loadOrGenerate(preplaced));
    }

    @Test
    void loadOrGenerateDoesNotOverwriteABrokenFile() throws IOException {
        Path f = dir.resolve("chef-backend-secrets.json");
        Files.writeString(f, "[]");
        assertThrows(SecretsException.class, () -> SecretsFile.loadOrGenerate(f));
        assertEquals("[]", Files.readString(f));
    }

    @Test
    void unknownKeysAreTolerated() throws IOException {
        String json = """
                {"postgresql": {"db_superuser_password": "a", "replication_password": "b", "new": 1},
                 "etcd": {"initial_cluster_token": "c"},
                 "elasticsearch": {"cluster_name": "d"},
                 "future_section": {"x": [1, 2]}}
                """;
        assertEquals(new Secrets("a", "b", "c", "d"), SecretsFile.load(withContent(json)));
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("chef-backend-secrets.json");
        assertEquals("secrets file " + f + " does not exist", loadError(f));
    }

    @Test
    void malformedFiles() throws IOException {
        String valid = new Secrets("secretsu", "secretrepl", "tok", "name").toJson();

        String truncated = loadError(withContent(valid.substring(0, 60)));
        assertTrue(truncated.matches("secrets file .+ is not valid JSON at line \\d+, column \\d+.*"), truncated);
        assertFalse(truncated.contains("secretsu"), truncated);

        String garbage = loadError(withContent("{\"postgresql\": secretsu}"));
        assertTrue(garbage.contains("is not valid JSON at line 1, column"), garbage);
        assertFalse(garbage.contains("secretsu"), garbage); // Jackson would quote the token

        assertEquals(msg("must contain a JSON object, found an array"), loadError(withContent("[]")));
        assertEquals(msg("is empty"), loadError(withContent("")));

        assertEquals(msg("is incomplete: missing etcd"), loadError(withContent(valid.replace("\"etcd\"", "\"etcx\""))));
        assertEquals(msg("is incomplete: missing postgresql.replication_password"),
                loadError(withContent(valid.replace("replication_password", "replication_passwd"))));
        assertEquals(msg(": postgresql.db_superuser_password must be a non-empty string, found an empty string"),
                loadError(withContent(valid.replace("\"secretsu\"", "\"\""))));
        assertEquals(msg(": etcd.initial_cluster_token must be a non-empty string, found a number"),
                loadError(withContent(valid.replace("\"tok\"", "42"))));
        assertEquals(msg(": elasticsearch must be a JSON object, found a string"),
                loadError(withContent("{\"postgresql\": {\"db_superuser_password\": \"a\", \"replication_password\": \"b\"},"
                        + " \"etcd\": {\"initial_cluster_token\": \"c\"}, \"elasticsearch\": \"d\"}")));
    }

    @Test
    void errorMessagesAreOneLine() throws IOException {
        assertFalse(loadError(withContent("{\n\"a\":\n")).contains("\n"));
        assertFalse(new SecretsException("a\nb").getMessage().contains("\n"));
    }

    @Test
    void toStringDoesNotLeakSecrets() {
        Secrets s = Secrets.generate(RANDOM);
        assertEquals("Secrets[<redacted>]", s.toString());
        for (String v : List.of(s.dbSuperuserPassword(), s.replicationPassword(),
                s.etcdInitialClusterToken(), s.elasticsearchClusterName())) {
            assertFalse(s.toString().contains(v));
        }
    }

    @Test
    void adminKeyStableForEqualSecretsAndDifferentOtherwise() {
        Secrets s = Secrets.generate(RANDOM);
        Secrets same = new Secrets(s.dbSuperuserPassword(), s.replicationPassword(),
                s.etcdInitialClusterToken(), s.elasticsearchClusterName());
        assertEquals(32, s.adminKey().length);
        assertArrayEquals(s.adminKey(), same.adminKey());
        assertFalse(Arrays.equals(s.adminKey(), Secrets.generate(RANDOM).adminKey()));
        // Every one of the four values feeds the key.
        Secrets otherName = new Secrets(s.dbSuperuserPassword(), s.replicationPassword(),
                s.etcdInitialClusterToken(), s.elasticsearchClusterName() + "x");
        assertFalse(Arrays.equals(s.adminKey(), otherName.adminKey()));
        Secrets otherRepl = new Secrets(s.dbSuperuserPassword(), s.replicationPassword() + "x",
                s.etcdInitialClusterToken(), s.elasticsearchClusterName());
        assertFalse(Arrays.equals(s.adminKey(), otherRepl.adminKey()));
    }

    private Path withContent(String content) throws IOException {
        Path f = dir.resolve("chef-backend-secrets.json");
        Files.write(f, content.getBytes(StandardCharsets.UTF_8));
        return f;
    }

    private String msg(String problem) {
        Path f = dir.resolve("chef-backend-secrets.json");
        return "secrets file " + f + (problem.startsWith(":") ? "" : " ") + problem;
    }

    private static String loadError(Path f) {
        return assertThrows(SecretsException.class, () -> SecretsFile.load(f)).getMessage();
    }

    private static PosixFileAttributes attrs(Path p) throws IOException {
        return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(attrs(p).permissions());
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
