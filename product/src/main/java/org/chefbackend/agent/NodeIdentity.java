package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;

/**
 * A node's name and GUID.
 *
 * <p>The name is {@code fqdn} when chef-backend.rb sets it. Otherwise it is the machine's host name — unless the node
 * has its own root (several nodes on one machine), where the host name alone would repeat: then it is
 * {@code <hostname>-<publish_address with dashes>}, e.g. {@code vm-127-0-0-2}, unique per address.
 *
 * <p>The GUID (32 hex characters, the etcd member name Chef frontends see) is made once and kept in leaderl's data
 * directory, so it survives restarts and reconfigures.
 */
public record NodeIdentity(String name, String guid) {
    public static NodeIdentity load(NodePaths paths, Settings settings) throws IOException {
        return new NodeIdentity(name(paths, settings), guid(paths));
    }

    static String name(NodePaths paths, Settings settings) {
        String fqdn = settings.string("fqdn");
        if (settings.setAt("fqdn").isPresent() || paths.root().getNameCount() == 0) {
            return fqdn;
        }
        String address = settings.optionalString("publish_address").orElse("unset");
        return fqdn + "-" + address.replace('.', '-').replace(':', '-');
    }

    static String guid(NodePaths paths) throws IOException {
        Path file = paths.leaderlDataDir().resolve("guid");
        if (Files.exists(file)) {
            String guid = Files.readString(file).trim();
            if (guid.matches("[0-9a-f]{32}")) {
                return guid;
            }
        }
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        String guid = HexFormat.of().formatHex(bytes);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("guid.tmp");
        Files.writeString(tmp, guid + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return guid;
    }
}
