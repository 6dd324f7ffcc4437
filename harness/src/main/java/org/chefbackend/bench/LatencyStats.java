package org.chefbackend.bench;

import java.util.List;

/**
 * Latencies of a series of checks, in milliseconds: median, 99th percentile (nearest rank) and max, with how many
 * checks there were and how many failed. A failed check counts with the time it took (a timeout with all of it).
 */
public record LatencyStats(double median, double p99, double max, int checks, int failed) {
    public static LatencyStats of(List<Double> millis, int failed) {
        if (millis.isEmpty()) {
            return new LatencyStats(Double.NaN, Double.NaN, Double.NaN, 0, failed);
        }
        List<Double> v = millis.stream().sorted().toList();
        int n = v.size();
        double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
        int rank = (int) Math.ceil(0.99 * n); // nearest rank: the smallest value with 99 % of all at or below it
        return new LatencyStats(median, v.get(rank - 1), v.get(n - 1), n, failed);
    }

    /** Every check answered, none slower than {@code limitMillis}. */
    public boolean allWithin(double limitMillis) {
        return checks > 0 && failed == 0 && max <= limitMillis;
    }
}
