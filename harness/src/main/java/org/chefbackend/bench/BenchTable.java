package org.chefbackend.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One benchmark's result: rows of chef-backend vs Patroni (and their ratio), the targets it decides
 * (met/missed), notes, the raw figures and the machine's load while it ran. Printed as a text table and saved as
 * JSON, from which {@link ResultsReport} writes docs/RESULTS.md.
 */
public final class BenchTable {
    static final ObjectMapper JSON = new ObjectMapper();

    public record Row(String metric, String chefBackend, String patroni, String ratio) {
    }

    /** met is null when the figure could not be measured. */
    public record Target(String target, String value, Boolean met) {
    }

    public final String key;
    public final String title;
    public final List<Row> rows = new ArrayList<>();
    public final List<Target> targets = new ArrayList<>();
    public final List<String> notes = new ArrayList<>();
    public final ObjectNode data = JSON.createObjectNode();
    /** PNG plots (paths relative to the JSON file's directory) with their captions. */
    public final Map<String, String> plots = new LinkedHashMap<>();
    public String loadBefore = Load.uptime();
    public String loadAfter = "";

    public BenchTable(String key, String title) {
        this.key = key;
        this.title = title;
    }

    public BenchTable row(String metric, String chefBackend, String patroni, String ratio) {
        rows.add(new Row(metric, chefBackend, patroni, ratio));
        return this;
    }

    public BenchTable target(String target, String value, Boolean met) {
        targets.add(new Target(target, value, met));
        return this;
    }

    public BenchTable note(String note) {
        notes.add(note);
        return this;
    }

    public static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b == 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.2f×", a / b);
    }

    public static String f(String fmt, double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, fmt, v);
    }

    public String text() {
        loadAfter = loadAfter.isEmpty() ? Load.uptime() : loadAfter;
        String[] head = {"metric", "chef-backend", "Patroni", "ratio (chef-backend / Patroni)"};
        int[] w = new int[4];
        for (int i = 0; i < 4; i++) {
            w[i] = head[i].length();
        }
        for (Row r : rows) {
            String[] c = {r.metric(), r.chefBackend(), r.patroni(), r.ratio()};
            for (int i = 0; i < 4; i++) {
                w[i] = Math.max(w[i], c[i].length());
            }
        }
        StringBuilder sb = new StringBuilder("\n== ").append(title).append(" ==\n");
        String fmt = "%-" + w[0] + "s | %-" + w[1] + "s | %-" + w[2] + "s | %s%n";
        sb.append(String.format(fmt, (Object[]) head));
        sb.append("-".repeat(w[0] + w[1] + w[2] + w[3] + 9)).append('\n');
        for (Row r : rows) {
            sb.append(String.format(fmt, r.metric(), r.chefBackend(), r.patroni(), r.ratio()));
        }
        for (Target t : targets) {
            sb.append("target: ").append(t.target()).append(" -> ").append(t.value()).append(": ")
                    .append(t.met() == null ? "not measured" : t.met() ? "met" : "MISSED").append('\n');
        }
        notes.forEach(n -> sb.append("note: ").append(n).append('\n'));
        sb.append("load (uptime) before: ").append(loadBefore).append("; after: ").append(loadAfter).append('\n');
        return sb.toString();
    }

    public ObjectNode toJson() {
        loadAfter = loadAfter.isEmpty() ? Load.uptime() : loadAfter;
        ObjectNode o = JSON.createObjectNode();
        o.put("title", title);
        o.put("measured_at", Instant.now().toString());
        o.put("load_before", loadBefore);
        o.put("load_after", loadAfter);
        ArrayNode rs = o.putArray("rows");
        for (Row r : rows) {
            rs.addObject().put("metric", r.metric()).put("chef_backend", r.chefBackend()).put("patroni", r.patroni())
                    .put("ratio", r.ratio());
        }
        ArrayNode ts = o.putArray("targets");
        for (Target t : targets) {
            ObjectNode n = ts.addObject().put("target", t.target()).put("value", t.value());
            if (t.met() == null) {
                n.putNull("met");
            } else {
                n.put("met", t.met());
            }
        }
        ArrayNode ns = o.putArray("notes");
        notes.forEach(ns::add);
        o.set("data", data);
        ObjectNode ps = o.putObject("plots");
        plots.forEach(ps::put);
        return o;
    }

    public static BenchTable fromJson(String key, JsonNode o) {
        BenchTable t = new BenchTable(key, o.path("title").asText(key));
        for (JsonNode r : o.path("rows")) {
            t.row(r.path("metric").asText(), r.path("chef_backend").asText(), r.path("patroni").asText(),
                    r.path("ratio").asText());
        }
        for (JsonNode x : o.path("targets")) {
            t.target(x.path("target").asText(), x.path("value").asText(),
                    x.path("met").isBoolean() ? x.path("met").asBoolean() : null);
        }
        o.path("notes").forEach(n -> t.note(n.asText()));
        t.loadBefore = o.path("load_before").asText();
        t.loadAfter = o.path("load_after").asText();
        o.path("plots").fields().forEachRemaining(e -> t.plots.put(e.getKey(), e.getValue().asText()));
        if (o.path("data").isObject()) {
            t.data.setAll((ObjectNode) o.path("data"));
        }
        return t;
    }
}
