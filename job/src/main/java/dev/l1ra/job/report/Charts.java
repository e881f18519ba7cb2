package dev.l1ra.job.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * PNG charts drawn with Java2D (headless): line charts of curves and a heat-map of a matrix. No
 * plotting dependency; good enough to look at a run without a notebook.
 */
public final class Charts {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
  };
  private static final int W = 900;
  private static final int H = 520;
  private static final int PAD = 70;

  private Charts() {}

  /** A named series of (x, y) points. */
  public record Series(String name, List<double[]> points) {}

  /** Line chart of several series with shared axes. */
  public static void lines(
      Path file, String title, String xLabel, String yLabel, List<Series> series) {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = canvas(img, title);
    double[] r = range(series);
    axes(g, r, xLabel, yLabel);
    for (int s = 0; s < series.size(); s++) {
      g.setColor(PALETTE[s % PALETTE.length]);
      g.setStroke(new BasicStroke(2f));
      List<double[]> pts = series.get(s).points();
      for (int i = 1; i < pts.size(); i++) {
        g.drawLine(
            px(pts.get(i - 1)[0], r),
            py(pts.get(i - 1)[1], r),
            px(pts.get(i)[0], r),
            py(pts.get(i)[1], r));
      }
      if (pts.size() == 1) {
        g.fillOval(px(pts.get(0)[0], r) - 3, py(pts.get(0)[1], r) - 3, 6, 6);
      }
      g.drawString(series.get(s).name(), W - PAD - 160, PAD + 18 * (s + 1));
    }
    write(img, file);
  }

  /**
   * Heat-map: rows × columns of values, labelled, with the value printed in each cell.
   *
   * @param values [rows][cols]
   */
  public static void heatmap(
      Path file, String title, List<String> rowLabels, List<String> colLabels, double[][] values) {
    int rows = rowLabels.size();
    int cols = colLabels.size();
    int cell =
        Math.max(
            8,
            Math.min(
                48,
                Math.min((W - 2 * PAD) / Math.max(1, cols), (H - 2 * PAD) / Math.max(1, rows))));
    int w = Math.max(W, 2 * PAD + cell * cols + 40);
    int h = Math.max(H / 2, 2 * PAD + cell * rows);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = canvas(img, title);
    double lo = Double.MAX_VALUE;
    double hi = -Double.MAX_VALUE;
    for (double[] row : values) {
      for (double v : row) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(12, cell / 3))));
    for (int i = 0; i < rows; i++) {
      g.setColor(Color.DARK_GRAY);
      g.drawString(rowLabels.get(i), 8, PAD + i * cell + cell / 2 + 4);
      for (int j = 0; j < cols; j++) {
        double t = hi > lo ? (values[i][j] - lo) / (hi - lo) : 0.5;
        g.setColor(viridis(t));
        g.fillRect(PAD + j * cell, PAD + i * cell, cell, cell);
        if (cell >= 20) {
          g.setColor(t > 0.6 ? Color.BLACK : Color.WHITE);
          g.drawString(fmt(values[i][j]), PAD + j * cell + 3, PAD + i * cell + cell / 2 + 4);
        }
      }
    }
    g.setColor(Color.DARK_GRAY);
    for (int j = 0; j < cols; j++) {
      g.drawString(colLabels.get(j), PAD + j * cell + 2, PAD - 6);
    }
    g.drawString(String.format(Locale.ROOT, "min %s  max %s", fmt(lo), fmt(hi)), PAD, h - 12);
    write(img, file);
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }

  /** A perceptual colour ramp (approximation of viridis) for t in [0, 1]. */
  static Color viridis(double t) {
    double[][] stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    double x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    int i = Math.min(stops.length - 2, (int) x);
    double f = x - i;
    return new Color(
        (int) (stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
        (int) (stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
        (int) (stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  }

  private static Graphics2D canvas(BufferedImage img, String title) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, PAD, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    return g;
  }

  private static double[] range(List<Series> series) {
    double x0 = Double.MAX_VALUE;
    double x1 = -Double.MAX_VALUE;
    double y0 = Double.MAX_VALUE;
    double y1 = -Double.MAX_VALUE;
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (Double.isFinite(p[1])) {
          x0 = Math.min(x0, p[0]);
          x1 = Math.max(x1, p[0]);
          y0 = Math.min(y0, p[1]);
          y1 = Math.max(y1, p[1]);
        }
      }
    }
    if (x0 > x1) {
      return new double[] {0, 1, 0, 1};
    }
    double dy = y1 > y0 ? (y1 - y0) * 0.05 : 0.5;
    return new double[] {x0, x1 > x0 ? x1 : x0 + 1, y0 - dy, y1 + dy};
  }

  private static int px(double x, double[] r) {
    return PAD + (int) ((x - r[0]) / (r[1] - r[0]) * (W - 2 * PAD));
  }

  private static int py(double y, double[] r) {
    return H - PAD - (int) ((y - r[2]) / (r[3] - r[2]) * (H - 2 * PAD));
  }

  private static void axes(Graphics2D g, double[] r, String xLabel, String yLabel) {
    g.setColor(Color.GRAY);
    g.drawLine(PAD, H - PAD, W - PAD, H - PAD);
    g.drawLine(PAD, PAD, PAD, H - PAD);
    for (int i = 0; i <= 5; i++) {
      double x = r[0] + i * (r[1] - r[0]) / 5;
      double y = r[2] + i * (r[3] - r[2]) / 5;
      g.drawString(String.format(Locale.ROOT, "%.0f", x), px(x, r) - 10, H - PAD + 18);
      g.drawString(String.format(Locale.ROOT, "%.3g", y), 8, py(y, r) + 4);
    }
    g.drawString(xLabel, W / 2, H - 20);
    g.drawString(yLabel, 8, PAD - 12);
  }

  private static void write(BufferedImage img, Path file) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ImageIO.write(img, "png", bytes);
      dev.l1ra.core.util.AtomicFiles.write(file, bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write chart " + file + ": " + e, e);
    }
  }
}
