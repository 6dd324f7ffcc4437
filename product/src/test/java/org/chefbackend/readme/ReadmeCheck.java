package org.chefbackend.readme;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ConfigException;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Settings;

/**
 * What can be checked of README.md without running it: every command of its ```sh and ```console blocks parses as a
 * shell command ({@code sh -n}) and names only chef-backend-ctl commands and options that exist, the demo's commands
 * use only placeholders the demo fills, every ```ruby block loads as chef-backend.rb, and every link to a section
 * ({@code #anchor}) finds its heading.
 */
final class ReadmeCheck {
    /** The placeholders ReadmeCommandsIT fills from what {@code demo up} printed. */
    static final Set<String> DEMO_PLACEHOLDERS = Set.of("<printed by demo up>");
    private static final Pattern ANCHOR_LINK = Pattern.compile("\\]\\(#([^)]+)\\)");

    private ReadmeCheck() {
    }

    /** Every problem found, one line each, naming README.md's line. */
    static List<String> problems(String markdown) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        for (ReadmeCommands.Command c : ReadmeCommands.demoCommands(markdown)) {
            List<String> unknown = ReadmeCommands.placeholders(c.text()).stream()
                    .filter(p -> !DEMO_PLACEHOLDERS.contains(p)).toList();
            if (!unknown.isEmpty()) {
                out.add(c + ": placeholder " + unknown + " is not one the demo fills " + DEMO_PLACEHOLDERS);
                continue;
            }
            command(c, c.text().replace("<printed by demo up>", "x"), out);
        }
        for (ReadmeCommands.Command c : ReadmeCommands.hostCommands(markdown)) {
            command(c, c.text(), out);
        }
        for (ReadmeCommands.Block b : ReadmeCommands.chefBackendRbBlocks(markdown)) {
            try {
                Settings.from(ChefBackendRbParser.parse("README.md (the block at line " + b.line() + ")",
                        String.join("\n", b.lines()) + "\n"), new MachineFacts(4L << 30, "readme"));
            } catch (ConfigException e) {
                out.add(e.getMessage());
            }
        }
        Set<String> anchors = anchors(markdown);
        Matcher m = ANCHOR_LINK.matcher(markdown);
        while (m.find()) {
            if (!anchors.contains(m.group(1))) {
                out.add("README.md:" + lineOf(markdown, m.start()) + ": no section for the link #" + m.group(1));
            }
        }
        return out;
    }

    private static void command(ReadmeCommands.Command c, String text, List<String> out)
            throws IOException, InterruptedException {
        String syntax = syntaxError(text);
        if (syntax != null) {
            out.add(c + ": does not parse: " + syntax);
            return;
        }
        try {
            CtlCheck.problems(text).forEach(p -> out.add(c + ": " + p));
        } catch (IllegalArgumentException e) {
            out.add(c + ": " + e.getMessage());
        }
    }

    /** The shell's own verdict ({@code sh -n}), null when the command parses. */
    static String syntaxError(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-n", "-c", command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "sh -n did not finish";
        }
        return p.exitValue() == 0 ? null : output.isEmpty() ? "exit " + p.exitValue() : output;
    }

    /** The anchors GitHub gives the headings: lower case, punctuation other than - and _ dropped, spaces to -. */
    static Set<String> anchors(String markdown) {
        Set<String> out = new TreeSet<>();
        boolean inBlock = false;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("```")) {
                inBlock = !inBlock;
            } else if (!inBlock && line.startsWith("#")) {
                String title = line.replaceFirst("^#+\\s*", "").strip().toLowerCase(Locale.ROOT);
                out.add(title.codePoints().filter(cp -> Character.isLetterOrDigit(cp) || cp == ' ' || cp == '-'
                        || cp == '_').mapToObj(Character::toString).collect(Collectors.joining()).replace(' ', '-'));
            }
        }
        return out;
    }

    private static int lineOf(String text, int index) {
        return (int) text.substring(0, index).chars().filter(ch -> ch == '\n').count() + 1;
    }
}
