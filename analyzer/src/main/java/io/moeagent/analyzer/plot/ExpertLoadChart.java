package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.stats.ExpertParallelTally;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Expert-parallel load per device: for each EP degree D, the busiest device's load over the mean device load per
 * step, averaged over the layer's steps, with experts placed round-robin (solid) and balanced from the recorded
 * loads (dashed); 1 is a perfectly even split.
 */
public final class ExpertLoadChart {
    private static final Color[] COLORS = {new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868),
            new Color(0xC44E52), new Color(0x8172B3), new Color(0x937860)};

    private ExpertLoadChart() {
    }

    public static BufferedImage render(List<ExpertParallelTally.Layer> layers, String title, double widthInches,
                                       double heightInches) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        int degrees = layers.isEmpty() ? 0 : layers.get(0).degrees().size();
        double max = 1;
        for (ExpertParallelTally.Layer l : layers) {
            String c = Integer.toString(l.layer());
            for (ExpertParallelTally.Degree d : l.degrees()) {
                data.addValue(d.roundRobin().mean(), "D=" + d.devices() + " round-robin", c);
                data.addValue(d.balanced().mean(), "D=" + d.devices() + " balanced", c);
                max = Math.max(max, Math.max(d.roundRobin().mean(), d.balanced().mean()));
            }
        }
        LineAndShapeRenderer r = new LineAndShapeRenderer(true, true);
        BasicStroke solid = new BasicStroke(1.6f);
        BasicStroke dashed = new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {5f, 3f}, 0f);
        for (int d = 0; d < degrees; d++) {
            Color color = COLORS[d % COLORS.length];
            r.setSeriesPaint(2 * d, color);
            r.setSeriesPaint(2 * d + 1, color);
            r.setSeriesStroke(2 * d, solid);
            r.setSeriesStroke(2 * d + 1, dashed);
        }
        CategoryAxis x = new CategoryAxis("layer");
        x.setTickLabelFont(Charts.TICK_FONT);
        x.setLabelFont(Charts.LABEL_FONT);
        if (layers.size() > 32) {
            x.setCategoryLabelPositions(CategoryLabelPositions.UP_90);
        }
        NumberAxis y = new NumberAxis("busiest device / mean device, per step");
        y.setTickLabelFont(Charts.TICK_FONT);
        y.setLabelFont(Charts.LABEL_FONT);
        // from just below an even split (1) to just above the worst layer
        double pad = 0.08 * (max - 1) + 0.02;
        y.setRange(1 - pad, max + pad);
        CategoryPlot plot = new CategoryPlot(data, x, y, r);
        ValueMarker even = new ValueMarker(1.0, Color.GRAY, new BasicStroke(0.8f));
        plot.addRangeMarker(even);
        return Charts.renderWithLegendBelow(title, plot, widthInches, heightInches);
    }
}
