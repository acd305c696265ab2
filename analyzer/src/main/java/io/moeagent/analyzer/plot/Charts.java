package io.moeagent.analyzer.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;

/** Renders charts at print resolution: laid out at 100 units per inch, drawn at {@link #DPI}. */
final class Charts {
    static final int DPI = 300;
    /** Layout units per inch; fonts are sized in these units (10 units = 7.2 pt in print). */
    static final double UNITS_PER_INCH = 100;
    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 8);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);

    interface Overlay {
        void draw(Graphics2D g, ChartRenderingInfo info);
    }

    private Charts() {
    }

    /** A bar/line plot on white with light range grid lines and its legend below: the analyses' category charts. */
    static BufferedImage renderWithLegendBelow(String title, CategoryPlot plot, double widthInches,
                                               double heightInches) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlineVisible(false);
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        legend.setItemFont(LABEL_FONT);
        legend.setPosition(RectangleEdge.BOTTOM);
        return render(chart, widthInches, heightInches, null);
    }

    static BufferedImage render(JFreeChart chart, double widthInches, double heightInches, Overlay overlay) {
        int w = (int) Math.round(widthInches * DPI);
        int h = (int) Math.round(heightInches * DPI);
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            double scale = DPI / UNITS_PER_INCH;
            g.scale(scale, scale);
            ChartRenderingInfo info = new ChartRenderingInfo();
            chart.draw(g, new Rectangle2D.Double(0, 0, w / scale, h / scale), info);
            if (overlay != null) {
                overlay.draw(g, info);
            }
        } finally {
            g.dispose();
        }
        return image;
    }
}
