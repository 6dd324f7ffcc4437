package org.chefbackend.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.Distribution;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "version", mixinStandardHelpOptions = true,
        description = "Print the version of chef-backend and of every component it runs (the original's "
                + "version-manifest.json).")
final class VersionCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print a version-manifest.json document.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** One bundled or required component. */
    record Component(String name, String version, String source) {
    }

    @Override
    public Integer call() throws JsonProcessingException {
        List<Component> components = components();
        if (json) {
            Map<String, Object> software = new LinkedHashMap<>();
            for (Component c : components) {
                software.put(c.name(), Map.of("locked_version", c.version(), "source", c.source()));
            }
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("manifest_format", 2);
            manifest.put("build_version", Distribution.version());
            manifest.put("software", software);
            spec.commandLine().getOut().println(
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(manifest));
        } else {
            spec.commandLine().getOut().println("chef-backend " + Distribution.version());
            spec.commandLine().getOut().printf("%-14s %-12s %s%n", "Component", "Version", "Source");
            for (Component c : components) {
                spec.commandLine().getOut().printf("%-14s %-12s %s%n", c.name(), c.version(), c.source());
            }
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    static List<Component> components() {
        List<Component> list = new ArrayList<>();
        list.add(new Component("opensearch", Distribution.opensearchVersion(),
                "Maven Central integ-test-zip with modules analysis-common, lang-painless, reindex; "
                        + Distribution.opensearchHome()));
        list.add(postgresql());
        list.add(debian("etcd", "etcd-server", "--version"));
        list.add(debian("etcdctl", "etcd-client", "version"));
        list.add(debian("haproxy", "haproxy", "-v"));
        list.add(new Component("java", System.getProperty("java.version"), System.getProperty("java.home")));
        list.add(new Component("picocli", Distribution.libraryVersion("picocli"), "Maven Central"));
        list.add(new Component("jackson", Distribution.libraryVersion("jackson"), "Maven Central"));
        return list;
    }

    private static Component postgresql() {
        try {
            Path bin = Binaries.postgresBinDir();
            String v = Binaries.version(bin.resolve("postgres"), "--version").orElse("unknown");
            return new Component("postgresql", v, bin + " (Debian package postgresql-15)");
        } catch (Binaries.MissingBinaryException e) {
            return new Component("postgresql", "missing", "install the Debian package postgresql-15");
        }
    }

    private static Component debian(String program, String pkg, String versionArg) {
        Optional<Path> path = Binaries.onPath(program);
        if (path.isEmpty()) {
            return new Component(program, "missing", "install the Debian package " + pkg);
        }
        String v = Binaries.version(path.get(), versionArg).orElse("unknown");
        return new Component(program, v, path.get() + " (Debian package " + pkg + ")");
    }

    /** For -V/--version on the top-level command: just the product version. */
    static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"chef-backend " + Distribution.version()};
        }
    }
}
