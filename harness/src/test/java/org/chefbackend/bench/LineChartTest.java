package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineChartTest {
    @Test
    void countsPerWholeSecondFromTheStart() {
        double[] c = LineChart.perSecond(List.of(100.1, 100.9, 101.0, 103.5, 99.9, 104.2), 100, 104);
        assertArrayEquals(new double[] {2, 1, 0, 1}, c);
        // a trailing partial second is left out
        assertArrayEquals(new double[] {2, 1, 0, 1}, LineChart.perSecond(List.of(100.1, 100.9, 101.0, 103.5, 104.2), 100, 104.5));
    }

    @Test
    void writesAValidPngWithAGapVisible(@TempDir Path dir) throws Exception {
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            double t = 1000 + i * 0.05;
            if (t < 1010 || t > 1015) { // a 5 s outage
                times.add(t);
            }
        }
        Path png = dir.resolve("sub/writes.png");
        LineChart.write(png, "host crash (test)", times, 1000, 1030,
                List.of(new LineChart.Marker(1010, "kill -9"), new LineChart.Marker(1015, "new leader")));
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, Arrays.copyOf(bytes, 8));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertNotNull(img, "ImageIO cannot decode the PNG");
        assertEquals(900, img.getWidth());
        assertEquals(400, img.getHeight());
        // not a blank canvas: some pixel differs from the top-left background
        int bg = img.getRGB(0, 0);
        boolean drawn = false;
        for (int x = 0; x < img.getWidth() && !drawn; x += 3) {
            for (int y = 0; y < img.getHeight() && !drawn; y += 3) {
                drawn = img.getRGB(x, y) != bg;
            }
        }
        assertNotEquals(false, drawn, "the chart is blank");
    }
}
