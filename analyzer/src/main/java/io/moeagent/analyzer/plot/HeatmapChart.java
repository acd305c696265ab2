package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.stats.RoutingTally;
import java.awt.Color;
import java.awt.Paint;
import java.awt.image.BufferedImage;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;

/** Layers x experts: each cell is the expert's share of its layer's selections (%). */
public final class HeatmapChart {
    private HeatmapChart() {
    }

    public static BufferedImage render(RoutingTally tally, String title, double widthInches, double heightInches) {
        int[] layers = tally.layers();
        int experts = tally.experts();
        double[][] xyz = new double[3][layers.length * experts];
        double max = 0;
        for (int row = 0; row < layers.length; row++) {
            RoutingTally.Counts c = tally.layer(layers[row]);
            long n = 0;
            for (long v : c.selections) {
                n += v;
            }
            for (int e = 0; e < experts; e++) {
                int i = row * experts + e;
                xyz[0][i] = e;
                xyz[1][i] = row;
                xyz[2][i] = n == 0 ? 0 : 100.0 * c.selections[e] / n;
                max = Math.max(max, xyz[2][i]);
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("share", xyz);
        double upper = max > 0 ? max : 1;
        Gradient scale = new Gradient(upper);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);

        NumberAxis x = new NumberAxis("expert");
        x.setRange(-0.5, experts - 0.5);
        x.setTickUnit(new NumberTickUnit(1));
        x.setVerticalTickLabels(true);
        x.setTickLabelFont(Charts.TICK_FONT);
        x.setLabelFont(Charts.LABEL_FONT);
        String[] names = new String[layers.length];
        for (int i = 0; i < layers.length; i++) {
            names[i] = Integer.toString(layers[i]);
        }
        SymbolAxis y = new SymbolAxis("layer", names);
        y.setTickLabelFont(Charts.TICK_FONT);
        y.setLabelFont(Charts.LABEL_FONT);
        y.setGridBandsVisible(false);
        y.setInverted(true);

        JFreeChart chart = withLegend(title, new XYPlot(data, x, y, renderer), scale,
                "share of the layer's selections (%)", upper);
        return Charts.render(chart, widthInches, heightInches, null);
    }

    /** A block plot on white, its colour scale as a legend on the right: what every heatmap here looks like. */
    static JFreeChart withLegend(String title, XYPlot plot, Gradient scale, String legendLabel, double upper) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setOutlineVisible(false);
        JFreeChart chart = new JFreeChart(title, Charts.TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        NumberAxis legendAxis = new NumberAxis(legendLabel);
        legendAxis.setTickLabelFont(Charts.TICK_FONT);
        legendAxis.setLabelFont(Charts.LABEL_FONT);
        legendAxis.setRange(0, upper);
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(10, 10, 10, 10));
        legend.setStripWidth(12);
        legend.setSubdivisionCount(200);
        chart.addSubtitle(legend);
        return chart;
    }

    /** White through blue to dark purple: low shares fade out, hot experts stand out. */
    static final class Gradient implements PaintScale {
        private static final Color[] STOPS = {new Color(0xFFFFFF), new Color(0xC6DBEF), new Color(0x4292C6),
                new Color(0x08519C), new Color(0x3F007D)};
        private final double upper;

        Gradient(double upper) {
            this.upper = upper;
        }

        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return upper;
        }

        @Override
        public Paint getPaint(double value) {
            double t = Math.max(0, Math.min(1, value / upper)) * (STOPS.length - 1);
            int i = Math.min((int) t, STOPS.length - 2);
            double f = t - i;
            Color a = STOPS[i];
            Color b = STOPS[i + 1];
            return new Color(mix(a.getRed(), b.getRed(), f), mix(a.getGreen(), b.getGreen(), f),
                    mix(a.getBlue(), b.getBlue(), f));
        }

        private static int mix(int a, int b, double f) {
            return (int) Math.round(a + (b - a) * f);
        }
    }

}
