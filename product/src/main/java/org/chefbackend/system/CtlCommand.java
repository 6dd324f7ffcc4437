package org.chefbackend.system;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * chef-backend-ctl as an operator can paste it into a shell: printed hints must run wherever they are pasted, and a
 * clone has no chef-backend-ctl on PATH, so bin/chef-backend-ctl passes its own absolute path.
 */
public final class CtlCommand {
    /** Set by bin/chef-backend-ctl to its absolute path, as invoked (a symlink such as /usr/bin/… kept). */
    public static final String PROPERTY = "chefbackend.ctl";
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private CtlCommand() {
    }

    /** The command itself: the script's path when it ran us, else the name (an install puts it on PATH). */
    public static String ctl() {
        String path = System.getProperty(PROPERTY);
        return path == null || path.isBlank() ? "chef-backend-ctl" : quote(path);
    }

    /** {@code chef-backend-ctl ARGS} for the node at {@code root}: CHEF_BACKEND_ROOT=ROOT before it unless root is /. */
    public static String forRoot(Path root, String args) {
        return forRoot(ctl(), root, args);
    }

    /** The same with the command given (a test's, or the demo's). */
    public static String forRoot(String ctl, Path root, String args) {
        String prefix = root.getNameCount() == 0 ? "" : "CHEF_BACKEND_ROOT=" + quote(root.toString()) + " ";
        return prefix + ctl + " " + args;
    }

    /**
     * {@code chef-backend-ctl ARGS} to be run on another host, or on whichever node the operator picks: bare, as a
     * package install puts it on PATH; this node's path to it, and its root, would be wrong there.
     */
    public static String elsewhere(String args) {
        return "chef-backend-ctl " + args;
    }

    /** A word as a POSIX shell reads it back unchanged: plain words as they are, others in single quotes. */
    public static String quote(String word) {
        return PLAIN.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}
