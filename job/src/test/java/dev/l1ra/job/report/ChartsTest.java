package dev.l1ra.job.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.model.train.Evaluator;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Charts: round ticks, a legend beside the plot, a colour scale, and no failure without fonts. */
class ChartsTest {
  @TempDir Path dir;

  private static List<double[]> line(double... xy) {
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < xy.length; i += 2) {
      pts.add(new double[] {xy[i], xy[i + 1]});
    }
    return pts;
  }

  @Test
  void ticksAreRoundAndEncloseTheData() {
    assertArrayEquals(new double[] {0, 50, 100, 150, 200, 250}, Ticks.nice(1, 240, 6));
    assertArrayEquals(new double[] {3.0, 3.5, 4.0, 4.5, 5.0}, Ticks.nice(3.02, 4.79, 6));
    assertEquals("3.5", Ticks.label(3.5, Ticks.nice(3.02, 4.79, 6)));
    assertEquals("100", Ticks.label(100, Ticks.nice(1, 240, 6)));
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 1000; i++) {
      double lo = (rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(-4, 6));
      double hi = lo + rnd.nextDouble() * Math.pow(10, rnd.nextInt(-4, 6));
      double[] t = Ticks.nice(lo, hi, 6);
      double step = t[1] - t[0];
      double mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-6));
      assertTrue(
          List.of(1L, 2L, 5L).contains(Math.round(mantissa))
              && Math.abs(mantissa - Math.round(mantissa)) < 1e-4,
          "step " + step);
      assertTrue(t[0] <= lo && t[t.length - 1] >= hi, lo + ".." + hi);
      assertTrue(t.length >= 3 && t.length <= 12, t.length + " ticks for " + lo + ".." + hi);
      for (double v : t) {
        double k = v / step;
        assertEquals(0, Math.abs(k - Math.rint(k)), 1e-6 * Math.max(1, Math.abs(k)), "tick " + v);
        assertTrue(step < 1 || !Ticks.label(v, t).contains("."), Ticks.label(v, t));
      }
    }
  }

  @Test
  void theLegendIsBesideThePlotNotOverIt() {
    List<Charts.Series> series =
        List.of(
            new Charts.Series("train", line(0, 5, 100, 5)),
            new Charts.Series("a rather long series name", line(0, 1, 100, 1), true, true));
    Charts.Frame f = Charts.frame(series);
    assertFalse(f.plot().intersects(f.legend()), f.toString());
    assertTrue(f.legend().x + f.legend().width <= Charts.W, f.toString());
    // legend text is black; nothing inside the plot is
    BufferedImage img = Charts.renderLines("t", "step", "loss", series);
    int black = 0;
    for (int x = 0; x < img.getWidth(); x++) {
      for (int y = 0; y < img.getHeight(); y++) {
        if ((img.getRGB(x, y) & 0xffffff) == 0) {
          black++;
          assertFalse(f.plot().contains(x, y), "black pixel in the plot at " + x + "," + y);
        }
      }
    }
    assertTrue(black > 0, "no title or legend text drawn");
  }

  @Test
  void theHeatMapHasAColourScaleFromItsMinimumToItsMaximum() {
    List<String> rows = List.of("layer 0", "layer 1");
    List<String> cols = List.of("q", "k", "gate");
    BufferedImage img = Heatmap.render("ranks", rows, cols, new double[][] {{2, 8, 15}, {4, 6, 9}});
    Rectangle bar = Heatmap.layout("ranks", rows, cols).bar();
    int mid = bar.x + bar.width / 2;
    assertClose(Charts.viridis(1), new Color(img.getRGB(mid, bar.y + 2)));
    assertClose(Charts.viridis(0), new Color(img.getRGB(mid, bar.y + bar.height - 3)));
    assertClose(Charts.viridis(0.5), new Color(img.getRGB(mid, bar.y + bar.height / 2)));
    int labelled = 0;
    for (int x = bar.x + bar.width + 8; x < img.getWidth(); x++) {
      for (int y = bar.y - 8; y < bar.y + bar.height + 8; y++) {
        labelled += (img.getRGB(x, y) & 0xffffff) == (Color.DARK_GRAY.getRGB() & 0xffffff) ? 1 : 0;
      }
    }
    assertTrue(labelled > 50, "the scale's values are not drawn");
  }

  private static void assertClose(Color want, Color got) {
    assertTrue(
        Math.abs(want.getRed() - got.getRed()) < 12
            && Math.abs(want.getGreen() - got.getGreen()) < 12
            && Math.abs(want.getBlue() - got.getBlue()) < 12,
        "want " + want + ", got " + got);
  }

  @Test
  void theLossChartStartsEvalAtTheBaseModelAndAddsTheBaseline() {
    MetricsCsv.Curves run = new MetricsCsv.Curves(line(1, 4, 2, 3), line(2, 3.5));
    MetricsCsv.Curves lora = new MetricsCsv.Curves(line(1, 4.1, 2, 3.2), line(2, 3.4));
    List<Charts.Series> s = LossChart.series(run, 4.7, lora);
    assertEquals(4, s.size());
    assertArrayEquals(new double[] {0, 4.7}, s.get(1).points().get(0), "eval starts at the base");
    assertTrue(s.get(1).markers());
    assertTrue(s.get(2).dashed() && s.get(3).dashed(), "the baseline is dashed");
    assertArrayEquals(new double[] {0, 4.7}, s.get(3).points().get(0));
    assertEquals(2, LossChart.series(run, Double.NaN, null).size(), "no eval data, no baseline");
    Path file = dir.resolve("loss.png");
    LossChart.write(file, "r", run, new Evaluator.Result(47, 10), lora);
    assertTrue(Files.isRegularFile(file));
  }

  @Test
  void aChartThatCannotBeWrittenIsAWarningNotAnError() throws IOException {
    Path notADir = Files.writeString(dir.resolve("file"), "x");
    assertFalse(
        Charts.lines(
            notADir.resolve("c.png"), "t", "x", "y", List.of(new Charts.Series("s", line(0, 1)))));
    assertFalse(
        Charts.heatmap(notADir.resolve("h.png"), "t", List.of("a"), List.of("b"), new double[1][]));
    assertTrue(Charts.lines(dir.resolve("empty.png"), "t", "x", "y", List.of()));
  }

  /**
   * A host whose JDK cannot load its font library (here: a {@code libharfbuzz.so.0} that is not a
   * library, found first on LD_LIBRARY_PATH; on a GPU host it was missing) still gets its charts,
   * and the font library is never loaded ({@code -Xlog:library} lists what the JVM loads).
   */
  @Test
  void chartsNeedNoFontLibrary() throws Exception {
    Path libs = Files.createDirectories(dir.resolve("broken-libs"));
    Files.writeString(libs.resolve("libharfbuzz.so.0"), "");
    Path out = Files.createDirectories(dir.resolve("out"));
    Path log = dir.resolve("child.log");
    ProcessBuilder pb =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xlog:library=info",
                "-cp",
                System.getProperty("java.class.path"),
                ChartsWithoutFonts.class.getName(),
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("LD_LIBRARY_PATH", libs.toString());
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), text);
    assertTrue(text.contains("written: true true"), text);
    assertFalse(text.contains("libfontmanager"), "the font library was loaded");
    for (String f : List.of("lines.png", "heat.png")) {
      BufferedImage img = ImageIO.read(out.resolve(f).toFile());
      assertNotNull(img, f);
      assertTrue(img.getWidth() > 100 && img.getHeight() > 100, f);
    }
  }
}
