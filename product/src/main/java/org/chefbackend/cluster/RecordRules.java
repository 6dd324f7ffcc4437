package org.chefbackend.cluster;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;
import org.chefbackend.postgres.ReplicationStatus;

/**
 * What one field of a record in etcd may hold. Anyone who can write to etcd may have written a record, so readers
 * check each against these rules before acting on it, and writers before writing it ({@link Records}). A broken rule
 * throws {@link Records.Invalid}, whose message names the field and why, on one line.
 */
public final class RecordRules {
    /**
     * A node name: its fqdn, or {@code <fqdn>-<publish_address with dashes>} when nodes share a machine
     * (NodeIdentity); a lower-case host name either way, save an IPv6 address's upper-case hex. No spaces, quotes or
     * separators: names become etcd keys, log words and PostgreSQL application names.
     */
    public static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");
    /** Free text (reasons, problems): long enough for any reason the agent gives, short enough for a table. */
    public static final int MAX_TEXT = 1024;
    /** A short word from another program (PostgreSQL's replication states, a search status). */
    public static final int MAX_WORD = 32;
    private static final Pattern GUID = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    /** Starts with a hex digit or a colon and holds a colon: InetAddress then parses it and never asks DNS. */
    private static final Pattern IPV6_SHAPE = Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}");
    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern STATE = Pattern.compile("[a-z_]{1," + MAX_WORD + "}");
    private static final int QUOTED = 60;

    private RecordRules() {
    }

    public static boolean isNodeName(String value) {
        return value != null && NODE_NAME.matcher(value).matches();
    }

    /** An IPv4 or IPv6 address literal; never a host name, so checking one resolves nothing. */
    public static boolean isIpLiteral(String value) {
        if (value == null) {
            return false;
        }
        if (IPV4.matcher(value).matches()) {
            return true;
        }
        if (!IPV6_SHAPE.matcher(value).matches() || value.indexOf(':') < 0) {
            return false;
        }
        try {
            InetAddress.getByName(value);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static void nodeName(String field, String value) {
        if (!isNodeName(required(field, value))) {
            throw invalid(field, value, "is not a node name (letters, digits, '.', '_', '-'; at most 253)");
        }
    }

    static void guid(String field, String value) {
        if (!GUID.matcher(required(field, value)).matches()) {
            throw invalid(field, value, "is not a node GUID (32 lower-case hex digits)");
        }
    }

    static void ipLiteral(String field, String value) {
        if (!isIpLiteral(required(field, value))) {
            throw invalid(field, value, "is not an IP address literal");
        }
    }

    static void port(String field, int value) {
        if (value < 1 || value > 65535) {
            throw new Records.Invalid(field + " " + value + " is not a port (1..65535)");
        }
    }

    /** A WAL position as PostgreSQL writes it ("0/3000060"). */
    static void lsn(String field, String value) {
        try {
            ReplicationStatus.lsnToLong(required(field, value));
        } catch (IllegalArgumentException e) {
            throw invalid(field, value, "is not a WAL position (like 0/3000060)");
        }
    }

    static void atLeast(String field, long value, long min) {
        if (value < min) {
            throw new Records.Invalid(field + " " + value + " is below " + min);
        }
    }

    /** A physical replication slot's name (ReplicationSlots#nameFor). */
    static void slot(String field, String value) {
        if (!SLOT.matcher(required(field, value)).matches()) {
            throw invalid(field, value, "is not a replication slot name ([a-z0-9_], at most 63)");
        }
    }

    /** A leaderl state's name ("waiting_for_leader", "stopping"). */
    static void state(String field, String value) {
        if (!STATE.matcher(required(field, value)).matches()) {
            throw invalid(field, value, "is not a state name ([a-z_], at most " + MAX_WORD + ")");
        }
    }

    /** Text of at most {@code max} characters and no control character; null passes (the field is optional). */
    static void text(String field, String value, int max) {
        if (value == null) {
            return;
        }
        if (value.length() > max) {
            throw new Records.Invalid(field + " is " + value.length() + " characters long, over " + max);
        }
        value.chars().filter(RecordRules::isControl).findFirst().ifPresent(c -> {
            throw new Records.Invalid(field + " holds the control character " + String.format("\\u%04X", c));
        });
    }

    static String required(String field, String value) {
        if (value == null) {
            throw new Records.Invalid(field + " is missing");
        }
        return value;
    }

    /**
     * What a writer publishes of another program's text (an error message, a reason): control characters made
     * spaces and cut to {@code max} characters, so the record stays one a reader accepts. Null stays null.
     */
    public static String oneLine(String value, int max) {
        if (value == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(Math.min(value.length(), max));
        value.codePoints().forEach(c -> b.appendCodePoint(isControl(c) ? ' ' : c));
        if (b.length() <= max) {
            return b.toString();
        }
        int end = Character.isHighSurrogate(b.charAt(max - 1)) ? max - 1 : max; // no half a character
        return b.substring(0, end);
    }

    /** {@code value} in double quotes, escaped and shortened, for a one-line reason. */
    static String quoted(String value) {
        String shown = value.length() > QUOTED ? value.substring(0, QUOTED) + "..." : value;
        StringBuilder b = new StringBuilder("\"");
        shown.chars().forEach(c -> b.append(isControl(c) ? String.format("\\u%04X", c)
                : c == '"' || c == '\\' ? "\\" + (char) c : String.valueOf((char) c)));
        return b.append('"').toString();
    }

    /**
     * Stricter than chef-backend.rb's rule (config.ControlCharacters): tabs and the C1 controls too, and the Unicode
     * line and paragraph separators, which some log viewers and terminals also break lines at.
     */
    private static boolean isControl(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }

    private static Records.Invalid invalid(String field, String value, String why) {
        return new Records.Invalid(field + " " + quoted(value) + " " + why);
    }
}
