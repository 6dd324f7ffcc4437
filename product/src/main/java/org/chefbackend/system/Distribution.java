package org.chefbackend.system;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The installed product: its version, the search engine's and where it lives. What else the package bundles is in
 * its version-manifest.json ({@link VersionManifest}).
 */
public final class Distribution {
    /** Set by bin/chef-backend-ctl to the assembled distribution (target/dist in a checkout). */
    public static final String HOME_PROPERTY = "chefbackend.dist";

    private static final Properties BUILD = load();

    private Distribution() {
    }

    public static String version() {
        return BUILD.getProperty("version", "unknown");
    }

    public static String opensearchVersion() {
        return BUILD.getProperty("opensearch.version", "unknown");
    }

    /** The distribution directory: the system property, else the parent of the lib/ holding this class's jar. */
    public static Path home() {
        String prop = System.getProperty(HOME_PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        try {
            Path jar = Path.of(Distribution.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().getParent();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of(".").toAbsolutePath();
        }
    }

    public static Path opensearchHome() {
        return home().resolve("opensearch");
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Distribution.class.getResourceAsStream("/org/chefbackend/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
