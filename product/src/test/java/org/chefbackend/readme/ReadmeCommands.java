package org.chefbackend.readme;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The commands of README.md, by its convention:
 * <ul>
 * <li>a {@code ```sh} block holds commands for the demo: each line (with its {@code \} continuations) is one command,
 * run in order from the repository's root by ReadmeCommandsIT; a trailing {@code # exits N} comment says the exit
 * status it must have (else 0); {@code <printed by demo up>} is filled from what {@code demo up} printed;</li>
 * <li>a {@code ```console} block holds commands for real hosts, each after a prompt ({@code node1# }: a root shell on
 * that host, {@code $ }: a shell on the build machine); lines without a prompt are output. They are not run, only
 * checked: they parse, and every chef-backend-ctl command and option they name exists;</li>
 * <li>a {@code ```ruby} block is chef-backend.rb, loaded as such; other blocks are not commands. A block of another
 * shell language is refused, so that no command escapes the checks.</li>
 * </ul>
 */
final class ReadmeCommands {
    /** One command: where it is in README.md, its prompt (null for the demo's), the exit status it wants. */
    record Command(int line, String prompt, String text, int expectedExit) {
        @Override
        public String toString() {
            return "README.md:" + line + ": " + (prompt == null ? "" : prompt + " ") + text;
        }
    }

    /** A fenced block: its language (the info string's first word) and its lines, the first at {@code line}+1. */
    record Block(String language, int line, List<String> lines) {
    }

    static final String DEMO = "sh";
    static final String HOSTS = "console";
    static final String CHEF_BACKEND_RB = "ruby";
    private static final List<String> REFUSED = List.of("bash", "shell", "shell-session", "zsh", "sh-session");
    private static final Pattern PROMPT = Pattern.compile("^(\\$|[A-Za-z0-9_.-]+[#$]) (.*)$");
    private static final Pattern EXITS = Pattern.compile("\\bexits (\\d+)\\b");
    private static final Pattern PLACEHOLDER = Pattern.compile("<[a-z][a-z ]*[a-z]>");

    private ReadmeCommands() {
    }

    static List<Block> blocks(String markdown) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].startsWith("```")) {
                continue;
            }
            String info = lines[i].substring(3).strip();
            String language = info.isEmpty() ? "" : info.split("\\s+")[0];
            if (REFUSED.contains(language)) {
                throw new IllegalArgumentException("README.md:" + (i + 1) + ": a ```" + language + " block: write ```"
                        + DEMO + " (run against the demo) or ```" + HOSTS + " (for hosts, with prompts)");
            }
            int open = i;
            List<String> body = new ArrayList<>();
            for (i++; i < lines.length && !lines[i].strip().equals("```"); i++) {
                body.add(lines[i]);
            }
            if (i == lines.length) {
                throw new IllegalArgumentException("README.md:" + (open + 1) + ": the block is never closed");
            }
            blocks.add(new Block(language, open + 1, body));
        }
        return blocks;
    }

    /** Every command of the ```sh blocks, in the file's order. */
    static List<Command> demoCommands(String markdown) {
        List<Command> out = new ArrayList<>();
        for (Block b : blocks(markdown)) {
            if (!b.language().equals(DEMO)) {
                continue;
            }
            for (int i = 0; i < b.lines().size(); i++) {
                int first = i;
                StringBuilder text = new StringBuilder();
                while (b.lines().get(i).endsWith("\\") && i + 1 < b.lines().size()) {
                    text.append(b.lines().get(i), 0, b.lines().get(i).length() - 1).append(' ');
                    i++;
                }
                text.append(b.lines().get(i));
                String command = text.toString().strip();
                if (!command.isEmpty() && !command.startsWith("#")) {
                    out.add(new Command(b.line() + 1 + first, null, command, expectedExit(command)));
                }
            }
        }
        return out;
    }

    /** Every command of the ```console blocks: the lines after a prompt, with their continuations. */
    static List<Command> hostCommands(String markdown) {
        List<Command> out = new ArrayList<>();
        for (Block b : blocks(markdown)) {
            if (!b.language().equals(HOSTS)) {
                continue;
            }
            for (int i = 0; i < b.lines().size(); i++) {
                Matcher m = PROMPT.matcher(b.lines().get(i));
                if (!m.matches()) {
                    continue; // output, or a comment's continuation
                }
                int first = i;
                StringBuilder text = new StringBuilder();
                String line = m.group(2);
                while (line.endsWith("\\") && i + 1 < b.lines().size()) {
                    text.append(line, 0, line.length() - 1).append(' ');
                    line = b.lines().get(++i).strip();
                }
                text.append(line);
                String command = text.toString().strip();
                out.add(new Command(b.line() + 1 + first, m.group(1), command, expectedExit(command)));
            }
        }
        return out;
    }

    /** The text of every ```ruby block, with the line it starts on. */
    static List<Block> chefBackendRbBlocks(String markdown) {
        return blocks(markdown).stream().filter(b -> b.language().equals(CHEF_BACKEND_RB)).toList();
    }

    private static int expectedExit(String command) {
        String comment;
        try {
            comment = ShellWords.split(command).comment();
        } catch (IllegalArgumentException e) {
            return 0; // a command that does not parse: sh -n says so
        }
        Matcher m = EXITS.matcher(comment);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /** The {@code <placeholders>} of a command. */
    static List<String> placeholders(String command) {
        return PLACEHOLDER.matcher(command).results().map(r -> r.group()).toList();
    }

    /** The command with each placeholder replaced; one without a value is an error naming it. */
    static String fill(Command c, Map<String, String> values) {
        String text = c.text();
        for (String p : placeholders(text)) {
            String value = values.get(p);
            if (value == null) {
                throw new IllegalArgumentException(c + ": no value for the placeholder " + p + " (known: "
                        + values.keySet() + ")");
            }
            text = text.replace(p, value);
        }
        return text;
    }
}
