package io.moeagent.analyzer.plot;

import io.moeagent.analyzer.stats.ExpertStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/** Selections per expert: every expert labelled on the x axis, the top three coloured, a box of summary figures. */
public final class HistogramChart {
    static final Color BAR = new Color(0x4C72B0);
    static final Color TOP = new Color(0xDD5F1F);

    private HistogramChart() {
    }

    public static BufferedImage render(ExpertStats s, String title, double widthInches, double heightInches) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int e = 0; e < s.experts(); e++) {
            data.addValue(s.counts()[e], "selections", Integer.toString(e));
        }
        Set<Integer> top = new HashSet<>();
        List<String> topNames = new ArrayList<>();
        for (ExpertStats.Ranked r : s.topExperts().subList(0, Math.min(3, s.topExperts().size()))) {
            top.add(r.expert());
            topNames.add(Integer.toString(r.expert()));
        }
        BarRenderer renderer = new BarRenderer() {
            @Override
            public Paint getItemPaint(int row, int column) {
                return top.contains(column) ? TOP : BAR;
            }
        };
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setDrawBarOutline(false);
        renderer.setItemMargin(0);

        CategoryAxis x = new CategoryAxis("expert");
        x.setCategoryLabelPositions(CategoryLabelPositions.UP_90);
        x.setTickLabelFont(Charts.TICK_FONT);
        x.setLabelFont(Charts.LABEL_FONT);
        x.setCategoryMargin(0.25);
        x.setLowerMargin(0.005);
        x.setUpperMargin(0.005);
        x.setMaximumCategoryLabelWidthRatio(1f);
        NumberAxis y = new NumberAxis("selections");
        y.setTickLabelFont(Charts.TICK_FONT);
        y.setLabelFont(Charts.LABEL_FONT);
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
        // headroom so that the tallest bars stay clear of the summary box
        y.setUpperMargin(0.42);

        CategoryPlot plot = new CategoryPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlineVisible(false);
        JFreeChart chart = new JFreeChart(title, Charts.TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);

        List<String> lines = List.of(
                String.format(Locale.ROOT, "total selections: %,d (%,d rows)", s.selections(), s.rows()),
                String.format(Locale.ROOT, "entropy: %.4f bits", nan0(s.entropyBits())),
                String.format(Locale.ROOT, "maximum entropy: log2(%d) = %.4f bits", s.experts(), s.maxEntropyBits()),
                String.format(Locale.ROOT, "normalised entropy: %.4f", nan0(s.normalizedEntropy())),
                "top 3 experts: " + String.join(", ", topNames));
        return Charts.render(chart, widthInches, heightInches, (g, info) ->
                drawBox(g, info.getPlotInfo().getDataArea(), lines));
    }

    private static double nan0(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static void drawBox(Graphics2D g, Rectangle2D area, List<String> lines) {
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        int width = 0;
        for (String l : lines) {
            width = Math.max(width, fm.stringWidth(l));
        }
        double pad = 6;
        double lineHeight = fm.getHeight();
        double w = width + 2 * pad + 14;
        double h = lines.size() * lineHeight + 2 * pad;
        double x = area.getMaxX() - w - 8;
        double y = area.getMinY() + 8;
        Rectangle2D box = new Rectangle2D.Double(x, y, w, h);
        g.setColor(new Color(255, 255, 255, 235));
        g.fill(box);
        g.setColor(Color.DARK_GRAY);
        g.setStroke(new BasicStroke(0.8f));
        g.draw(box);
        for (int i = 0; i < lines.size(); i++) {
            double baseline = y + pad + fm.getAscent() + i * lineHeight;
            boolean last = i == lines.size() - 1;
            if (last) {
                g.setColor(TOP);
                g.fill(new Rectangle2D.Double(x + pad, baseline - fm.getAscent() + 2, 9, 9));
            }
            g.setColor(Color.BLACK);
            g.drawString(lines.get(i), (float) (x + pad + (last ? 14 : 0)), (float) baseline);
        }
    }
}
