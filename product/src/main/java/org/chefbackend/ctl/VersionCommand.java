package org.chefbackend.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.chefbackend.system.DebianComponents;
import org.chefbackend.system.Distribution;
import org.chefbackend.system.VersionManifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "version", mixinStandardHelpOptions = true,
        description = "Print the version of chef-backend and of everything it runs: what the package bundles, from "
                + "its version-manifest.json, and the Debian packages it requires (PostgreSQL 15, etcd, the Java "
                + "runtime), read now with dpkg-query and each program's own --version, since apt upgrades them on "
                + "its own.")
final class VersionCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print version-manifest.json with what is installed from Debian now "
            + "(\"installed\").")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws JsonProcessingException {
        Path home = Distribution.home();
        VersionManifest.Result manifest = VersionManifest.read(home);
        List<DebianComponents.Installed> installed = DebianComponents.REQUIRED.stream()
                .map(DebianComponents::probe).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(json(manifest, installed)));
        } else {
            text(home, manifest, installed).forEach(out::println);
        }
        out.flush();
        return 0;
    }

    /** The manifest as installed (or this build's own record when there is none), with Debian's packages as now. */
    static Map<String, Object> json(VersionManifest.Result manifest, List<DebianComponents.Installed> installed) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("manifest_format", VersionManifest.FORMAT);
        doc.put("build_version", Distribution.version());
        doc.put("manifest", manifest.file().toString());
        if (manifest.manifest() != null) {
            doc.put("software", manifest.manifest().path("software"));
            doc.put("requires", manifest.manifest().path("requires"));
        } else {
            doc.put("manifest_problem", manifest.problem());
            doc.put("software", Map.of("opensearch", Map.of("locked_version", Distribution.opensearchVersion(),
                    "source", "this build's classes (no version-manifest.json)", "bundled", true)));
        }
        Map<String, Object> debian = new LinkedHashMap<>();
        for (DebianComponents.Installed i : installed) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("package", i.debianPackage());
            entry.put("package_version", i.packageVersion());
            entry.put("program_version", i.programVersion());
            entry.put("path", i.path() == null ? null : i.path().toString());
            if (i.problem() != null) {
                entry.put("problem", i.problem());
            }
            debian.put(i.required().name(), entry);
        }
        doc.put("installed", debian);
        return doc;
    }

    static List<String> text(Path home, VersionManifest.Result manifest, List<DebianComponents.Installed> installed) {
        List<String> lines = new ArrayList<>();
        lines.add("chef-backend " + Distribution.version() + " (" + home + ")");
        JsonNode doc = manifest.manifest();
        if (doc == null) {
            lines.add("bundled: " + manifest.problem() + "; this build's classes say opensearch "
                    + Distribution.opensearchVersion());
        } else {
            lines.add("Bundled (" + manifest.file() + "):");
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"Component", "Version", "Source"});
            doc.path("software").fields().forEachRemaining(e -> rows.add(new String[] {e.getKey(),
                    e.getValue().path("locked_version").asText("unknown"), e.getValue().path("source").asText("")}));
            lines.addAll(columns(rows));
        }
        lines.add("From Debian, installed now (apt upgrades these on its own; `status` names a service still running"
                + " an old one):");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Package", "Package version", "Program version", "Path"});
        List<String> problems = new ArrayList<>();
        for (DebianComponents.Installed i : installed) {
            String pkg = i.debianPackage() != null ? i.debianPackage() : i.required().name();
            rows.add(new String[] {pkg, orDash(i.packageVersion()), orDash(i.programVersion()),
                    i.path() == null ? "-" : i.path().toString()});
            if (i.problem() != null) {
                problems.add(pkg + ": " + i.problem());
            }
        }
        lines.addAll(columns(rows));
        lines.addAll(problems);
        return lines;
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    private static List<String> columns(List<String[]> rows) {
        StringWriter buffer = new StringWriter();
        PrintWriter w = new PrintWriter(buffer);
        StatusTable.printColumns(w, rows, new int[0], 2);
        w.flush();
        return buffer.toString().lines().toList();
    }

    /** For -V/--version on the top-level command: just the product version. */
    static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"chef-backend " + Distribution.version()};
        }
    }
}
