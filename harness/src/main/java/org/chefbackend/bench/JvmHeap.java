package org.chefbackend.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Java heap as {@code jcmd PID GC.heap_info} reports it: used and committed KiB over all its generations. */
public record JvmHeap(long usedKib, long committedKib) {
    /** "def new generation   total 39296K, used 7776K [...]", "garbage-first heap   total 10240K, used 2048K". */
    private static final Pattern SPACE = Pattern.compile("total (\\d+)K, used (\\d+)K");

    /** Null when the output names no heap (the process is gone, or jcmd could not attach). */
    public static JvmHeap parse(String heapInfo) {
        Matcher m = SPACE.matcher(heapInfo);
        long used = 0;
        long committed = 0;
        boolean any = false;
        while (m.find()) {
            committed += Long.parseLong(m.group(1));
            used += Long.parseLong(m.group(2));
            any = true;
        }
        return any ? new JvmHeap(used, committed) : null;
    }
}
