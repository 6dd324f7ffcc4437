package org.chefbackend.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/** Reads and writes {@code chef-backend-secrets.json}. All failures are one-line {@link SecretsException}s. */
public final class SecretsFile {
    private static final ObjectMapper JSON = new ObjectMapper()
            // A secrets file with "{} junk" or a key given twice is ambiguous: refuse, don't guess.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SecretsFile() {
    }

    public static Secrets load(Path file) {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new SecretsException("secrets file " + file + " is a directory, not a file");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new SecretsException("secrets file " + file + " does not exist");
        } catch (IOException e) {
            throw new SecretsException("secrets file " + file + " cannot be read: " + reason(e));
        }

        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            // Only the position: Jackson's message may quote file contents, i.e. secrets.
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String what = e instanceof JsonEOFException ? " (unexpected end of input)" : "";
            throw new SecretsException("secrets file " + file + " is not valid JSON" + where + what);
        } catch (IOException e) {
            throw new SecretsException("secrets file " + file + " cannot be read: " + reason(e));
        }
        if (root == null || root.isMissingNode()) {
            throw new SecretsException("secrets file " + file + " is empty");
        }
        if (!root.isObject()) {
            throw new SecretsException("secrets file " + file + " must contain a JSON object, found " + kind(root));
        }
        // Unknown sections and keys are ignored so newer files still load in older versions.
        return new Secrets(
                string(file, root, "postgresql", "db_superuser_password"),
                string(file, root, "postgresql", "replication_password"),
                string(file, root, "etcd", "initial_cluster_token"),
                string(file, root, "elasticsearch", "cluster_name"),
                root.has("ca") ? ca(file, root) : null);
    }

    /** The optional {@code ca} section: absent in files made before the cluster CA existed. */
    private static ClusterCa ca(Path file, JsonNode root) {
        String certificate = string(file, root, "ca", "certificate");
        String key = string(file, root, "ca", "key");
        try {
            return new ClusterCa(certificate, key);
        } catch (IllegalArgumentException e) {
            throw new SecretsException("secrets file " + file + ": " + e.getMessage());
        }
    }

    /**
     * Writes root-only (0600). The documents give the file group chef_pgsql and mode 0640; here no service reads it as
     * that user, and PostgreSQL's user can be reached through the database superuser (COPY … TO PROGRAM), whose
     * password every frontend holds: the secrets, and the keys derived from them, stay out of its reach. Atomic:
     * readers see either the old complete file or the new complete file, never a partial one.
     */
    public static void write(Path file, Secrets secrets) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            // Created 0600 from the start so the secrets are never readable by others, not even briefly.
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(secrets.toJson().getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true); // data on disk before the rename makes it visible
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------")); // regardless of umask
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            fsyncDirectory(dir); // make the rename itself durable
        } catch (IOException e) {
            throw new SecretsException("cannot write secrets file " + file + ": " + reason(e));
        } catch (UnsupportedOperationException e) {
            throw new SecretsException("cannot write secrets file " + file + ": file system has no POSIX permissions");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the original failure is what the operator needs to see
                }
            }
        }
    }

    /**
     * Makes an existing file root-only (0600, owner and group root): files written by earlier versions were 0640 with
     * group chef_pgsql. Nothing when it is already so.
     */
    public static void restrict(Path file) {
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            GroupPrincipal root = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName("root");
            if (!view.readAttributes().group().equals(root)) {
                view.setPermissions(PosixFilePermissions.fromString("rw-------")); // narrow first, then the group
                view.setGroup(root);
            }
            view.setPermissions(PosixFilePermissions.fromString("rw-------"));
        } catch (NoSuchFileException e) {
            // nothing to restrict
        } catch (IOException e) {
            throw new SecretsException("cannot make secrets file " + file + " root-only: " + reason(e));
        }
    }

    /**
     * Reuses an existing file (operators may pre-place one, as with the original), otherwise generates
     * and writes new secrets. An existing but invalid file is an error, not overwritten: other nodes
     * may already be using the secrets in it.
     */
    public static Secrets loadOrGenerate(Path file) {
        if (Files.exists(file)) {
            return load(file);
        }
        Secrets secrets = Secrets.generate(new SecureRandom());
        write(file, secrets);
        return secrets;
    }

    private static String string(Path file, JsonNode root, String section, String key) {
        JsonNode sec = root.get(section);
        if (sec == null) {
            throw new SecretsException("secrets file " + file + " is incomplete: missing " + section);
        }
        if (!sec.isObject()) {
            throw new SecretsException("secrets file " + file + ": " + section + " must be a JSON object, found " + kind(sec));
        }
        JsonNode value = sec.get(key);
        String name = section + "." + key;
        if (value == null) {
            throw new SecretsException("secrets file " + file + " is incomplete: missing " + name);
        }
        if (!value.isTextual()) {
            throw new SecretsException("secrets file " + file + ": " + name + " must be a non-empty string, found " + kind(value));
        }
        if (value.asText().isEmpty()) {
            throw new SecretsException("secrets file " + file + ": " + name + " must be a non-empty string, found an empty string");
        }
        return value.asText();
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case STRING -> "a string";
            default -> node.getNodeType().toString().toLowerCase();
        };
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not every platform can fsync a directory; the file itself is already durable.
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException n) {
            return "no such file or directory: " + n.getFile();
        }
        if (e instanceof FileSystemException fs) {
            // getMessage() of these is often just the path; say what went wrong with which file.
            String why = fs.getReason() != null ? fs.getReason() : e.getClass().getSimpleName();
            return fs.getFile() == null ? why : fs.getFile() + ": " + why;
        }
        String msg = e.getMessage();
        return msg == null ? e.getClass().getSimpleName() : msg;
    }
}
