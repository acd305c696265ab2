package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnalysesPlotTest {
    @TempDir
    Path tmp;

    @Test
    void coActivationLocalityAndEpLoadPngs() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 8, 2, new int[] {0, 1, 2}, 3, 6, 5, true, 11);
        Path co = tmp.resolve("co.png");
        Path loc = tmp.resolve("loc.png");
        Path ep = tmp.resolve("ep.png");
        Cli.Result r = Cli.run("plot", "--queue", q.toString(), "--coactivation", co.toString(), "--locality",
                loc.toString(), "--ep-load", ep.toString());
        assertEquals(0, r.code(), r.err());
        for (Path p : new Path[] {co, loc, ep}) {
            BufferedImage img = ImageIO.read(p.toFile());
            assertNotNull(img, p.toString());
            long[] phys = PlotTest.phys(p);
            assertEquals(11811, phys[0]);
            assertEquals(1, phys[2]);
            assertEquals(1500, img.getHeight());
            // not blank: some pixels are neither white nor grey
            boolean colour = false;
            for (int y = 0; y < img.getHeight() && !colour; y += 7) {
                for (int x = 0; x < img.getWidth() && !colour; x += 7) {
                    int c = img.getRGB(x, y);
                    int red = (c >> 16) & 255;
                    int green = (c >> 8) & 255;
                    int blue = c & 255;
                    colour = Math.abs(red - blue) > 60 || Math.abs(green - blue) > 60;
                }
            }
            assertTrue(colour, p + " has no coloured pixels");
        }
        assertEquals(3000, ImageIO.read(loc.toFile()).getWidth());
        // the series are drawn inside the plot, not only in the legend (the bottom fifth)
        assertTrue(pixelsNear(ImageIO.read(ep.toFile()), 0x4C72B0, 0.8) > 300, "no D=2 line in " + ep);
        assertTrue(pixelsNear(ImageIO.read(loc.toFile()), 0x4C72B0, 0.8) > 10_000, "no locality bars in " + loc);
        assertTrue(r.out().contains("wrote " + co), r.out());
    }

    /** Pixels within 12 per channel of {@code rgb} in the top {@code fraction} of the image. */
    static int pixelsNear(BufferedImage img, int rgb, double fraction) {
        int n = 0;
        for (int y = 0; y < img.getHeight() * fraction; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y);
                if (Math.abs(((c >> 16) & 255) - ((rgb >> 16) & 255)) < 12
                        && Math.abs(((c >> 8) & 255) - ((rgb >> 8) & 255)) < 12
                        && Math.abs((c & 255) - (rgb & 255)) < 12) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void epLoadNeedsADegreeThatFits() {
        Path q = tmp.resolve("q1");
        TestQueues.writeRun(q, 2, 1, new int[] {0}, 1, 2, 2, true, 1);
        Cli.Result r = Cli.run("plot", "--queue", q.toString(), "--ep-load", tmp.resolve("e.png").toString(),
                "--ep-degrees", "4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no EP degree fits 2 experts"), r.err());
        assertFalse(tmp.resolve("e.png").toFile().exists());
    }
}
