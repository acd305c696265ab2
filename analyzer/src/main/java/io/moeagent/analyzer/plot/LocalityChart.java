package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.stats.LocalityTally;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Temporal locality per layer: bars for the share of consecutive tokens whose first choice repeats and whose
 * top-k sets share an expert, dashed lines for the same figures by chance (uniform routing).
 */
public final class LocalityChart {
    static final Color SHARED = new Color(0x55A868);

    private LocalityChart() {
    }

    public static BufferedImage render(List<LocalityTally.Layer> layers, int topK, String title, double widthInches,
                                       double heightInches) {
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        DefaultCategoryDataset chance = new DefaultCategoryDataset();
        String first = "first choice repeats";
        String shared = "top-" + topK + " sets share an expert";
        for (LocalityTally.Layer l : layers) {
            String c = Integer.toString(l.layer());
            bars.addValue(pct(l.firstRepeatRate()), first, c);
            if (topK > 1) {
                bars.addValue(pct(l.anyOverlapRate()), shared, c);
            }
            chance.addValue(100 * l.uniformFirst(), "chance: first choice (1/E)", c);
            if (topK > 1) {
                chance.addValue(100 * l.uniformAny(), "chance: shared expert", c);
            }
        }
        BarRenderer barRenderer = new BarRenderer();
        barRenderer.setBarPainter(new StandardBarPainter());
        barRenderer.setShadowVisible(false);
        barRenderer.setDrawBarOutline(false);
        barRenderer.setItemMargin(0.05);
        barRenderer.setSeriesPaint(0, HistogramChart.BAR);
        barRenderer.setSeriesPaint(1, SHARED);
        LineAndShapeRenderer lines = new LineAndShapeRenderer(true, false);
        BasicStroke dashed = new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {4f, 3f}, 0f);
        lines.setSeriesStroke(0, dashed);
        lines.setSeriesStroke(1, dashed);
        lines.setSeriesPaint(0, HistogramChart.BAR.darker());
        lines.setSeriesPaint(1, SHARED.darker());

        CategoryAxis x = new CategoryAxis("layer");
        x.setTickLabelFont(Charts.TICK_FONT);
        x.setLabelFont(Charts.LABEL_FONT);
        x.setCategoryMargin(0.2);
        if (layers.size() > 32) {
            x.setCategoryLabelPositions(CategoryLabelPositions.UP_90);
        }
        NumberAxis y = new NumberAxis("share of consecutive token pairs (%)");
        y.setTickLabelFont(Charts.TICK_FONT);
        y.setLabelFont(Charts.LABEL_FONT);
        y.setRange(0, 105);
        CategoryPlot plot = new CategoryPlot(bars, x, y, barRenderer);
        plot.setDataset(1, chance);
        plot.setRenderer(1, lines);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
        return Charts.renderWithLegendBelow(title, plot, widthInches, heightInches);
    }

    private static Double pct(double v) {
        return Double.isNaN(v) ? null : 100 * v;
    }
}
