package io.moeagent.analyzer;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotTest {
    @TempDir
    Path tmp;

    /** Pixels per unit (x, y) and the unit byte of the PNG's pHYs chunk, read from the raw chunks. */
    static long[] phys(Path png) throws Exception {
        try (InputStream raw = Files.newInputStream(png); DataInputStream in = new DataInputStream(raw)) {
            byte[] sig = in.readNBytes(8);
            assertEquals((byte) 0x89, sig[0]);
            assertEquals('P', sig[1]);
            while (true) {
                int length = in.readInt();
                String type = new String(in.readNBytes(4), java.nio.charset.StandardCharsets.US_ASCII);
                if (type.equals("pHYs")) {
                    long x = in.readInt() & 0xffffffffL;
                    long y = in.readInt() & 0xffffffffL;
                    int unit = in.readUnsignedByte();
                    return new long[] {x, y, unit};
                }
                if (type.equals("IEND")) {
                    fail("no pHYs chunk in " + png);
                }
                in.skipNBytes(length + 4L);
            }
        }
    }

    @Test
    void histogramAndHeatmapArePngsOf3000x1500At300Dpi() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1, 2, 3, 4, 5}, 4, 40, 10, true, 3);
        Path hist = tmp.resolve("out/hist.png");
        Path heat = tmp.resolve("out/heat.png");
        Cli.Result r = Cli.run("plot", "--queue", q.toString(), "--out", hist.toString(), "--heatmap",
                heat.toString());
        assertEquals(0, r.code(), r.err());
        for (Path png : new Path[] {hist, heat}) {
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, png + " is not a readable image");
            assertEquals(3000, img.getWidth());
            assertEquals(1500, img.getHeight());
            assertArrayEquals(new long[] {11811, 11811, 1}, phys(png));
        }
        BufferedImage img = ImageIO.read(hist.toFile());
        assertTrue(countColour(img, 0xDD5F1F) > 1000, "the top experts are drawn in their own colour");
        assertTrue(countColour(img, 0x4C72B0) > 10000, "the other experts are drawn in the bar colour");
    }

    @Test
    void singleLayerHistogramFromJsonlAndCustomSize() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeRun(q, 60, 4, new int[] {0, 1}, 2, 10, 3, true, 5);
        Path jsonl = tmp.resolve("r.jsonl");
        assertEquals(0, Cli.run("export", "--queue", q.toString(), "--out", jsonl.toString()).code());
        Path hist = tmp.resolve("h1.png");
        Cli.Result r = Cli.run("plot", jsonl.toString(), "--out", hist.toString(), "--layer", "1", "--width", "8",
                "--height", "4");
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(hist.toFile());
        assertEquals(2400, img.getWidth());
        assertEquals(1200, img.getHeight());
    }

    @Test
    void plotWithoutAnOutputIsAUsageError() throws Exception {
        Path q = tmp.resolve("q");
        TestQueues.writeGolden(q);
        Cli.Result r = Cli.run("plot", "--queue", q.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("nothing to draw"), r.err());
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                if ((img.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }
}
