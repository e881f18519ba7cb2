package dev.l1ra.job.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The heat-map chart: a labelled grid of coloured cells and a colour scale beside it. */
final class Heatmap {
  private static final int TEXT = 2;
  private static final int GAP = 12;
  private static final int BAR_W = 20;

  private Heatmap() {}

  /** Where the grid of cells (each cellW × cellH) and the colour bar go, and the image size. */
  record Layout(Rectangle grid, int cellW, int cellH, Rectangle bar, int width, int height) {}

  static Layout layout(String title, List<String> rowLabels, List<String> colLabels) {
    int rows = Math.max(1, rowLabels.size());
    int cols = Math.max(1, colLabels.size());
    int colText = 0;
    for (String l : colLabels) {
      colText = Math.max(colText, PixelFont.width(l, TEXT));
    }
    int cellW = Math.max(colText + 8, Math.min(64, 640 / cols));
    int cellH = Math.max(16, Math.min(56, 760 / rows));
    int rowText = 0;
    for (String l : rowLabels) {
      rowText = Math.max(rowText, PixelFont.width(l, TEXT));
    }
    int th = PixelFont.height(TEXT);
    Rectangle grid = new Rectangle(GAP + rowText + GAP, 40 + th + 16, cols * cellW, rows * cellH);
    int barH = Math.max(grid.height, 160);
    Rectangle bar = new Rectangle(grid.x + grid.width + 3 * GAP, grid.y, BAR_W, barH);
    int width =
        Math.max(bar.x + BAR_W + GAP + 6 * 12 + GAP, PixelFont.width(title, TEXT) + 3 * GAP);
    return new Layout(grid, cellW, cellH, bar, width, grid.y + barH + 2 * GAP);
  }

  static BufferedImage render(
      String title, List<String> rowLabels, List<String> colLabels, double[][] values) {
    Layout l = layout(title, rowLabels, colLabels);
    BufferedImage img = new BufferedImage(l.width(), l.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = Charts.canvas(img, title);
    double lo = Double.MAX_VALUE;
    double hi = -Double.MAX_VALUE;
    for (double[] row : values) {
      for (double v : row) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (lo > hi) {
      lo = 0;
      hi = 0;
    }
    cells(g, l, rowLabels, colLabels, values, lo, hi);
    bar(g, l.bar(), lo, hi);
    return img;
  }

  private static void cells(
      Graphics2D g,
      Layout l,
      List<String> rowLabels,
      List<String> colLabels,
      double[][] values,
      double lo,
      double hi) {
    Rectangle grid = l.grid();
    int cw = l.cellW();
    int ch = l.cellH();
    int rowScale = ch >= PixelFont.height(TEXT) + 2 ? TEXT : 1;
    g.setColor(Color.DARK_GRAY);
    for (int j = 0; j < colLabels.size(); j++) {
      String s = colLabels.get(j);
      int x = grid.x + j * cw + (cw - PixelFont.width(s, TEXT)) / 2;
      PixelFont.draw(g, s, x, grid.y - 8 - PixelFont.height(TEXT), TEXT, false);
    }
    for (int i = 0; i < rowLabels.size(); i++) {
      g.setColor(Color.DARK_GRAY);
      int y = grid.y + i * ch + (ch - PixelFont.height(rowScale)) / 2;
      PixelFont.draw(g, rowLabels.get(i), GAP, y, rowScale, false);
      for (int j = 0; j < colLabels.size(); j++) {
        double t = hi > lo ? (values[i][j] - lo) / (hi - lo) : 0.5;
        g.setColor(Charts.viridis(t));
        g.fillRect(grid.x + j * cw, grid.y + i * ch, cw, ch);
        value(g, format(values[i][j]), grid.x + j * cw, grid.y + i * ch, cw, ch, t);
      }
    }
  }

  /** A cell's value, centred, at the larger scale that fits (none when nothing fits). */
  private static void value(Graphics2D g, String v, int x, int y, int cw, int ch, double t) {
    for (int scale = TEXT; scale >= 1; scale--) {
      int w = PixelFont.width(v, scale);
      int h = PixelFont.height(scale);
      if (w <= cw - 4 && h <= ch - 4) {
        g.setColor(t > 0.6 ? Color.BLACK : Color.WHITE);
        PixelFont.draw(g, v, x + (cw - w) / 2, y + (ch - h) / 2, scale, false);
        return;
      }
    }
  }

  /** The colour scale: viridis from lo (bottom) to hi (top), with round values beside it. */
  private static void bar(Graphics2D g, Rectangle bar, double lo, double hi) {
    for (int y = 0; y < bar.height; y++) {
      double t = bar.height == 1 ? 0.5 : 1 - (double) y / (bar.height - 1);
      g.setColor(Charts.viridis(hi > lo ? t : 0.5));
      g.fillRect(bar.x, bar.y + y, bar.width, 1);
    }
    g.setColor(Color.DARK_GRAY);
    g.drawRect(bar.x, bar.y, bar.width - 1, bar.height - 1);
    double[] ticks = hi > lo ? Ticks.nice(lo, hi, 5) : new double[] {lo};
    int th = PixelFont.height(TEXT);
    List<Double> shown = new ArrayList<>(hi > lo ? List.of(lo, hi) : List.of(lo));
    for (double v : ticks) {
      boolean inside = v > lo && v < hi;
      if (inside
          && Math.abs(barY(bar, v, lo, hi) - barY(bar, lo, lo, hi)) > th + 2
          && Math.abs(barY(bar, v, lo, hi) - barY(bar, hi, lo, hi)) > th + 2) {
        shown.add(v);
      }
    }
    for (double v : shown) {
      int y = barY(bar, v, lo, hi);
      g.drawLine(bar.x + bar.width, y, bar.x + bar.width + 5, y);
      PixelFont.draw(g, Ticks.label(v, ticks), bar.x + bar.width + 9, y - th / 2, TEXT, false);
    }
  }

  /** The bar's pixel row of value v (hi at the top). */
  private static int barY(Rectangle bar, double v, double lo, double hi) {
    return hi > lo
        ? bar.y + (int) Math.round((1 - (v - lo) / (hi - lo)) * (bar.height - 1))
        : bar.y + bar.height / 2;
  }

  private static String format(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
