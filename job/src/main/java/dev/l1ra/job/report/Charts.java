package dev.l1ra.job.report;

import dev.l1ra.core.util.AtomicFiles;
import java.awt.AWTError;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PNG charts drawn with Java2D (headless): line charts of curves and a heat-map of a matrix. No
 * plotting dependency and no system font: text is drawn with {@link PixelFont}, so a host without
 * font libraries renders the same picture. A chart that cannot be drawn or written is skipped with
 * a warning; it never fails the run.
 */
public final class Charts {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  private static final Logger LOG = LoggerFactory.getLogger(Charts.class);
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
  };
  static final int W = 960;
  static final int H = 540;
  private static final int TEXT = 2; // PixelFont scale of all labels: 10×14 px glyphs
  private static final int GAP = 12;
  private static final Color AXIS = new Color(0x555555);
  private static final Color GRID = new Color(0xe6e6e6);

  private Charts() {}

  /**
   * A named series of (x, y) points.
   *
   * @param dashed draw a dashed line (e.g. a baseline run)
   * @param markers mark every point (sparse series such as evaluations)
   */
  public record Series(String name, List<double[]> points, boolean dashed, boolean markers) {
    public Series(String name, List<double[]> points) {
      this(name, points, false, false);
    }
  }

  /** Where a line chart's parts go: the plot area and the legend beside it (never over it). */
  record Frame(Rectangle plot, Rectangle legend, double[] xTicks, double[] yTicks) {}

  /**
   * Line chart of several series with shared axes; the legend to the right of the plot.
   *
   * @return whether the chart was written (false: skipped with a warning)
   */
  public static boolean lines(
      Path file, String title, String xLabel, String yLabel, List<Series> series) {
    return guarded(file, () -> renderLines(title, xLabel, yLabel, series));
  }

  /**
   * Heat-map: rows × columns of values, labelled, the value in each cell when it fits, and a colour
   * scale with its values.
   *
   * @param values [rows][cols]
   * @return whether the chart was written (false: skipped with a warning)
   */
  public static boolean heatmap(
      Path file, String title, List<String> rowLabels, List<String> colLabels, double[][] values) {
    return guarded(file, () -> Heatmap.render(title, rowLabels, colLabels, values));
  }

  /** Renders and writes; any failure to do so is a warning, never an exception. */
  private static boolean guarded(Path file, Render render) {
    try {
      write(render.image(), file);
      return true;
    } catch (RuntimeException | LinkageError | AWTError e) {
      LOG.warn(
          "chart {} not written ({}); the run's other outputs are unaffected", file, e.toString());
      return false;
    }
  }

  private interface Render {
    BufferedImage image();
  }

  static BufferedImage renderLines(
      String title, String xLabel, String yLabel, List<Series> series) {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = canvas(img, title);
    Frame f = frame(series);
    axes(g, f, xLabel, yLabel);
    Rectangle p = f.plot();
    double[] r = {f.xTicks()[0], last(f.xTicks()), f.yTicks()[0], last(f.yTicks())};
    g.setClip(p.x - 4, p.y - 4, p.width + 8, p.height + 8);
    for (int s = 0; s < series.size(); s++) {
      Series se = series.get(s);
      g.setColor(PALETTE[s % PALETTE.length]);
      g.setStroke(stroke(se.dashed(), se.markers() ? 2.5f : 1.6f));
      List<double[]> pts = se.points().stream().filter(pt -> Double.isFinite(pt[1])).toList();
      for (int i = 1; i < pts.size(); i++) {
        g.drawLine(
            x(pts.get(i - 1)[0], r, p), y(pts.get(i - 1)[1], r, p),
            x(pts.get(i)[0], r, p), y(pts.get(i)[1], r, p));
      }
      if (se.markers() || pts.size() == 1) {
        pts.forEach(pt -> g.fillOval(x(pt[0], r, p) - 4, y(pt[1], r, p) - 4, 9, 9));
      }
    }
    g.setClip(null);
    legend(g, f.legend(), series);
    return img;
  }

  /** The plot area, legend and ticks for these series on a W×H image. */
  static Frame frame(List<Series> series) {
    double[] range = range(series);
    double[] xt = Ticks.nice(range[0], range[1], 6);
    double[] yt = Ticks.nice(range[2], range[3], 6);
    int yLabels = 0;
    for (double v : yt) {
      yLabels = Math.max(yLabels, PixelFont.width(Ticks.label(v, yt), TEXT));
    }
    int legendText = 0;
    for (Series s : series) {
      legendText = Math.max(legendText, PixelFont.width(s.name(), TEXT));
    }
    int legendW = series.isEmpty() ? 0 : 30 + GAP + legendText;
    int left = GAP + yLabels + GAP;
    int top = 74;
    int right = W - GAP - legendW - (legendW > 0 ? 2 * GAP : 0);
    Rectangle plot = new Rectangle(left, top, right - left, H - 64 - top);
    Rectangle legend =
        new Rectangle(right + 2 * GAP, top, legendW, series.size() * (PixelFont.height(TEXT) + 10));
    return new Frame(plot, legend, xt, yt);
  }

  private static void axes(Graphics2D g, Frame f, String xLabel, String yLabel) {
    Rectangle p = f.plot();
    double[] r = {f.xTicks()[0], last(f.xTicks()), f.yTicks()[0], last(f.yTicks())};
    int th = PixelFont.height(TEXT);
    for (double v : f.xTicks()) {
      int x = x(v, r, p);
      g.setColor(GRID);
      g.drawLine(x, p.y, x, p.y + p.height);
      g.setColor(AXIS);
      String s = Ticks.label(v, f.xTicks());
      PixelFont.draw(g, s, x - PixelFont.width(s, TEXT) / 2, p.y + p.height + 8, TEXT, false);
    }
    for (double v : f.yTicks()) {
      int y = y(v, r, p);
      g.setColor(GRID);
      g.drawLine(p.x, y, p.x + p.width, y);
      g.setColor(AXIS);
      String s = Ticks.label(v, f.yTicks());
      PixelFont.draw(g, s, p.x - GAP - PixelFont.width(s, TEXT), y - th / 2, TEXT, false);
    }
    g.setColor(AXIS);
    g.drawRect(p.x, p.y, p.width, p.height);
    PixelFont.draw(
        g, xLabel, p.x + (p.width - PixelFont.width(xLabel, TEXT)) / 2, H - th - 12, TEXT, false);
    PixelFont.draw(g, yLabel, GAP, p.y - th - 12, TEXT, false);
  }

  private static void legend(Graphics2D g, Rectangle box, List<Series> series) {
    int th = PixelFont.height(TEXT);
    for (int s = 0; s < series.size(); s++) {
      Series se = series.get(s);
      int y = box.y + s * (th + 10);
      g.setColor(PALETTE[s % PALETTE.length]);
      g.setStroke(stroke(se.dashed(), 2.5f));
      g.drawLine(box.x, y + th / 2, box.x + 30, y + th / 2);
      if (se.markers()) {
        g.fillOval(box.x + 11, y + th / 2 - 4, 9, 9);
      }
      g.setColor(Color.BLACK);
      PixelFont.draw(g, se.name(), box.x + 30 + GAP, y, TEXT, false);
    }
  }

  private static BasicStroke stroke(boolean dashed, float width) {
    return dashed
        ? new BasicStroke(
            width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 6f}, 0f)
        : new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
  }

  /** A white canvas with the title. */
  static Graphics2D canvas(BufferedImage img, String title) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(Color.BLACK);
    PixelFont.draw(g, title, GAP, 16, TEXT, true);
    return g;
  }

  /** Data range of the finite points: {x0, x1, y0, y1}. */
  private static double[] range(List<Series> series) {
    double x0 = Double.MAX_VALUE;
    double x1 = -Double.MAX_VALUE;
    double y0 = Double.MAX_VALUE;
    double y1 = -Double.MAX_VALUE;
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
          x0 = Math.min(x0, p[0]);
          x1 = Math.max(x1, p[0]);
          y0 = Math.min(y0, p[1]);
          y1 = Math.max(y1, p[1]);
        }
      }
    }
    return x0 > x1 ? new double[] {0, 1, 0, 1} : new double[] {x0, x1, y0, y1};
  }

  private static double last(double[] a) {
    return a[a.length - 1];
  }

  private static int x(double v, double[] r, Rectangle p) {
    return p.x + (int) Math.round((v - r[0]) / (r[1] - r[0]) * p.width);
  }

  private static int y(double v, double[] r, Rectangle p) {
    return p.y + p.height - (int) Math.round((v - r[2]) / (r[3] - r[2]) * p.height);
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

  private static void write(BufferedImage img, Path file) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ImageIO.write(img, "png", bytes);
      AtomicFiles.write(file, bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write chart " + file + ": " + e, e);
    }
  }
}
