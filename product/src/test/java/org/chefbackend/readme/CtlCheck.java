package org.chefbackend.readme;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.chefbackend.ctl.ChefBackendCtl;
import picocli.CommandLine;

/**
 * Whether a written command line would be accepted by chef-backend-ctl: every invocation in it ({@code
 * chef-backend-ctl}, a path ending in {@code /chef-backend-ctl}, or {@code bin/demo}, which runs {@code
 * chef-backend-ctl demo}) is parsed by the real command's picocli model, so an unknown subcommand or option, a
 * missing argument or an extra one is found without running anything.
 */
final class CtlCheck {
    /** Words a simple command may start with before its program: shell keywords and programs that run another. */
    private static final Set<String> LEADING = Set.of("if", "then", "else", "elif", "while", "until", "do", "!", "{",
            "exec", "sudo", "env", "nohup");

    private CtlCheck() {
    }

    /** One line per rejected invocation in the command line; empty when all are accepted. */
    static List<String> problems(String commandLine) {
        List<String> out = new ArrayList<>();
        for (List<String> words : ShellWords.split(commandLine).commands()) {
            check(words, out);
        }
        return out;
    }

    private static void check(List<String> words, List<String> out) {
        int i = 0;
        while (i < words.size() && (LEADING.contains(words.get(i)) || words.get(i).matches("[A-Za-z_][A-Za-z0-9_]*=.*"))) {
            i++;
        }
        if (i < words.size() && words.get(i).equals("timeout")) {
            i += 2; // timeout SECONDS COMMAND…
        }
        if (i >= words.size()) {
            return;
        }
        String program = words.get(i);
        List<String> args = words.subList(i + 1, words.size());
        if ((program.equals("sh") || program.equals("bash")) && args.size() >= 2 && args.get(0).equals("-c")) {
            out.addAll(problems(args.get(1)));
        } else if (program.equals("chef-backend-ctl") || program.endsWith("/chef-backend-ctl")) {
            parse(args, out);
        } else if (program.equals("bin/demo")) {
            List<String> demo = new ArrayList<>(List.of("demo"));
            demo.addAll(args);
            parse(demo, out);
        }
    }

    private static void parse(List<String> args, List<String> out) {
        try {
            ChefBackendCtl.everyCommand().parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            out.add("chef-backend-ctl " + String.join(" ", args) + ": " + e.getMessage());
        }
    }
}
