package org.chefbackend.bench;

import java.util.List;

/** Median, min and max of a few measurements. */
public record Stats(double median, double min, double max, int n) {
    public static Stats of(List<Double> values) {
        if (values.isEmpty()) {
            return new Stats(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        List<Double> v = values.stream().sorted().toList();
        int n = v.size();
        double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
        return new Stats(median, v.get(0), v.get(n - 1), n);
    }

    /** "9.8 s (min 9.1, max 10.4, n 5)" with the given format for each figure. */
    public String format(String fmt, String unit) {
        if (n == 0) {
            return "n/a";
        }
        return String.format(fmt, median) + unit + " (min " + String.format(fmt, min) + ", max " + String.format(fmt, max)
                + ", n " + n + ")";
    }
}
