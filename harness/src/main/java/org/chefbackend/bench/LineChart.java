package org.chefbackend.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG line charts of a workload over time (acknowledged writes per second) with vertical markers for events (a crash,
 * a switchover, a leader change), rendered headless with XChart. For the benchmark and the chaos reports.
 */
public final class LineChart {
    /** A vertical line at {@code x} seconds, labelled. */
    public record Marker(double x, String label) {
    }

    private LineChart() {
    }

    /**
     * Counts per whole second: element i is the number of {@code times} in [start + i, start + i + 1), for every whole
     * second up to {@code end} (a last partial second would look like a drop).
     */
    public static double[] perSecond(List<Double> times, double start, double end) {
        int n = Math.max(1, (int) Math.floor(end - start));
        double[] counts = new double[n];
        for (double t : times) {
            int i = (int) Math.floor(t - start);
            if (i >= 0 && i < n) {
                counts[i]++;
            }
        }
        return counts;
    }

    /**
     * A PNG of writes per second over time. {@code times} are acknowledgement times and {@code markers} event times,
     * both in seconds on the same clock; the chart's x axis starts at {@code start}.
     */
    public static byte[] writesPerSecond(String title, List<Double> times, double start, double end, List<Marker> markers)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        double[] y = perSecond(times, start, end);
        double[] x = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        XYChart chart = new XYChartBuilder().width(900).height(400).title(title).xAxisTitle("seconds")
                .yAxisTitle("acknowledged writes / s").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotBackgroundColor(Color.WHITE);
        chart.getStyler().setXAxisMin(0.0);
        double right = x.length;
        for (Marker m : markers) {
            right = Math.max(right, Math.ceil(m.x() - start) + 1);
        }
        chart.getStyler().setXAxisMax(right);
        double top = 1;
        for (double v : y) {
            top = Math.max(top, v);
        }
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(top * 1.15);
        XYSeries s = chart.addSeries("writes/s", x, y);
        s.setMarker(SeriesMarkers.NONE);
        for (Marker m : markers) {
            double mx = m.x() - start;
            chart.addAnnotation(new AnnotationLine(mx, true, false));
            chart.addAnnotation(new AnnotationText(m.label(), mx, top * 1.08, false));
        }
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    public static void write(Path png, String title, List<Double> times, double start, double end, List<Marker> markers)
            throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, writesPerSecond(title, times, start, end, markers));
    }
}
