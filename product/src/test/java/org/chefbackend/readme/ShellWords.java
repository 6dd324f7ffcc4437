package org.chefbackend.readme;

import java.util.ArrayList;
import java.util.List;

/**
 * A POSIX shell command line as the shell splits it, far enough to find the programs it runs and their arguments:
 * quotes and backslashes removed, split into simple commands at {@code ; && || | & ( )}, redirections dropped, and
 * a trailing {@code # comment} kept apart. No expansion: {@code $VAR} and globs stay as written.
 */
record ShellWords(List<List<String>> commands, String comment) {
    private static final String OPERATORS = ";&|()";

    static ShellWords split(String line) {
        List<List<String>> commands = new ArrayList<>();
        List<String> current = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean redirectTarget = false;
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == '\'' || c == '"') {
                int end = closing(line, i);
                String inner = line.substring(i + 1, end);
                word.append(c == '"' ? inner.replaceAll("\\\\([\"\\\\$`])", "$1") : inner);
                inWord = true;
                i = end + 1;
            } else if (c == '\\') {
                if (i + 1 < line.length()) {
                    word.append(line.charAt(i + 1));
                    inWord = true;
                }
                i += 2;
            } else if (c == '#' && !inWord) {
                endWord(current, word, inWord, redirectTarget);
                commands.add(current);
                return new ShellWords(nonEmpty(commands), line.substring(i + 1).strip());
            } else if (Character.isWhitespace(c) || OPERATORS.indexOf(c) >= 0 || c == '<' || c == '>') {
                boolean digitsOnly = inWord && word.chars().allMatch(Character::isDigit) && (c == '<' || c == '>');
                if (digitsOnly) { // 2>&1: the digits are the redirection's file descriptor, not a word
                    word.setLength(0);
                    inWord = false;
                } else if (endWord(current, word, inWord, redirectTarget)) {
                    redirectTarget = false;
                }
                inWord = false;
                if (c == '<' || c == '>') {
                    while (i < line.length() && "<>&".indexOf(line.charAt(i)) >= 0) {
                        i++;
                    }
                    redirectTarget = true;
                    continue;
                }
                if (OPERATORS.indexOf(c) >= 0) {
                    commands.add(current);
                    current = new ArrayList<>();
                }
                i++;
            } else {
                word.append(c);
                inWord = true;
                i++;
            }
        }
        endWord(current, word, inWord, redirectTarget);
        commands.add(current);
        return new ShellWords(nonEmpty(commands), "");
    }

    /** Adds the word unless it is a redirection's target; true when a word ended. */
    private static boolean endWord(List<String> current, StringBuilder word, boolean inWord, boolean redirectTarget) {
        if (!inWord) {
            return false;
        }
        if (!redirectTarget) {
            current.add(word.toString());
        }
        word.setLength(0);
        return true;
    }

    private static int closing(String line, int open) {
        char quote = line.charAt(open);
        for (int i = open + 1; i < line.length(); i++) {
            if (quote == '"' && line.charAt(i) == '\\') {
                i++;
            } else if (line.charAt(i) == quote) {
                return i;
            }
        }
        throw new IllegalArgumentException("unterminated " + quote + " quote in: " + line);
    }

    private static List<List<String>> nonEmpty(List<List<String>> commands) {
        return commands.stream().filter(c -> !c.isEmpty()).map(List::copyOf).toList();
    }
}
