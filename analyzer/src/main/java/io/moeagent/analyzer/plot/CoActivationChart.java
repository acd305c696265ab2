package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.stats.CoActivation;
import io.moeagent.analyzer.stats.RoutingTally;
import java.awt.image.BufferedImage;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.data.xy.DefaultXYZDataset;

/** Experts x experts: cell (i, j) is P(j selected | i selected) within a token's top-k (%), diagonal left blank. */
public final class CoActivationChart {
    private CoActivationChart() {
    }

    public static BufferedImage render(RoutingTally.Counts counts, String title, double widthInches,
                                       double heightInches) {
        int e = counts.experts();
        double[][] m = CoActivation.matrix(counts);
        double[][] xyz = new double[3][e * e];
        double max = 0;
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < e; j++) {
                int c = i * e + j;
                xyz[0][c] = j;
                xyz[1][c] = i;
                double v = i == j || Double.isNaN(m[i][j]) ? 0 : 100 * m[i][j];
                xyz[2][c] = v;
                max = Math.max(max, v);
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("P(j|i)", xyz);
        double upper = max > 0 ? max : 1;
        HeatmapChart.Gradient scale = new HeatmapChart.Gradient(upper);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        NumberAxis x = axis("j: expert selected with it", e);
        x.setVerticalTickLabels(true);
        NumberAxis y = axis("i: expert selected", e);
        y.setInverted(true);
        JFreeChart chart = HeatmapChart.withLegend(title, new XYPlot(data, x, y, renderer), scale,
                "P(j selected | i selected) (%)", upper);
        return Charts.render(chart, widthInches, heightInches, null);
    }

    private static NumberAxis axis(String label, int experts) {
        NumberAxis a = new NumberAxis(label);
        a.setRange(-0.5, experts - 0.5);
        a.setTickUnit(new NumberTickUnit(experts > 64 ? 8 : experts > 32 ? 2 : 1));
        a.setTickLabelFont(Charts.TICK_FONT);
        a.setLabelFont(Charts.LABEL_FONT);
        return a;
    }
}
