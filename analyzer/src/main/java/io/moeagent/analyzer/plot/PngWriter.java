package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.io.AtomicOutput;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** Writes a PNG whose {@code pHYs} chunk states its resolution, so viewers and printers size it right. */
public final class PngWriter {
    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    private PngWriter() {
    }

    public static long pixelsPerMetre(int dpi) {
        return Math.round(dpi / 0.0254);
    }

    public static void write(BufferedImage image, int dpi, Path file) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        ImageWriter writer = writers.next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            setPhys(meta, pixelsPerMetre(dpi));
            AtomicOutput.write(file, os -> {
                try (ImageOutputStream ios = ImageIO.createImageOutputStream(os)) {
                    writer.setOutput(ios);
                    writer.write(null, new IIOImage(image, null, meta), param);
                }
            });
        } finally {
            writer.dispose();
        }
    }

    private static void setPhys(IIOMetadata meta, long ppm) throws IIOInvalidTreeException {
        IIOMetadataNode phys = new IIOMetadataNode("pHYs");
        phys.setAttribute("pixelsPerUnitXAxis", Long.toString(ppm));
        phys.setAttribute("pixelsPerUnitYAxis", Long.toString(ppm));
        phys.setAttribute("unitSpecifier", "meter");
        IIOMetadataNode root = new IIOMetadataNode(PNG_FORMAT);
        root.appendChild(phys);
        meta.mergeTree(PNG_FORMAT, root);
    }
}
