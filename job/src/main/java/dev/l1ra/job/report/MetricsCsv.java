package dev.l1ra.job.report;

import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.TrainListener;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@code metrics.csv}: one row per optimizer step (step, loss, eval_loss, perplexity, lr,
 * grad_norm, tokens, tokens_per_s, seconds), appended and flushed as training goes, so a crash
 * loses nothing. A resumed run first drops the rows after its checkpoint. Eval columns are filled
 * on the steps where evaluation ran.
 */
public final class MetricsCsv implements TrainListener, AutoCloseable {
  static final String BASE_HEADER =
      "step,loss,eval_loss,perplexity,lr,grad_norm,tokens,tokens_per_s,seconds,skipped";

  private final Path file;
  private final String header;
  private BufferedWriter out;
  private StepRecord pending;
  private final int extraColumns;
  private final List<double[]> curve = new ArrayList<>();
  private final List<double[]> evalCurve = new ArrayList<>();

  /**
   * @param extra names of the rank controller's per-step statistics (extra columns)
   */
  public MetricsCsv(Path file, List<String> extra) {
    this.file = file;
    this.extraColumns = extra.size();
    this.header = BASE_HEADER + extra.stream().map(n -> "," + n).collect(Collectors.joining());
  }

  @Override
  public void onStart(int startStep, int totalSteps) {
    try {
      List<String> kept = new ArrayList<>();
      if (startStep > 0 && Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (line.startsWith("step") || stepOf(line) <= startStep) {
            kept.add(line);
            remember(line);
          }
        }
      }
      if (kept.isEmpty()) {
        kept.add(header);
      }
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, kept, StandardCharsets.UTF_8);
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e, e);
    }
  }

  private static int stepOf(String line) {
    int c = line.indexOf(',');
    return c <= 0 ? Integer.MAX_VALUE : Integer.parseInt(line.substring(0, c));
  }

  private void remember(String line) {
    if (line.startsWith("step")) {
      return;
    }
    String[] f = line.split(",", -1);
    curve.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])});
    if (!f[2].isEmpty()) {
      evalCurve.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[2])});
    }
  }

  @Override
  public void onStep(StepRecord r) {
    flush(null);
    pending = r;
    curve.add(new double[] {r.step(), r.loss()});
  }

  @Override
  public void onEval(int step, Evaluator.Result r) {
    if (pending != null && pending.step() == step) {
      flush(r);
    }
    evalCurve.add(new double[] {step, r.loss()});
  }

  @Override
  public void beforeCheckpoint(int step) {
    flush(null); // the row of the checkpoint's step is on disk before the checkpoint exists
  }

  private void flush(Evaluator.Result eval) {
    if (pending == null) {
      return;
    }
    StepRecord r = pending;
    pending = null;
    String row =
        String.format(
            Locale.ROOT,
            "%d,%.6f,%s,%s,%.6g,%.6g,%d,%.1f,%.3f,%d%s",
            r.step(),
            r.loss(),
            eval == null ? "" : String.format(Locale.ROOT, "%.6f", eval.loss()),
            eval == null ? "" : String.format(Locale.ROOT, "%.4f", eval.perplexity()),
            r.lr(),
            r.gradNorm(),
            r.cumulativeTokens(),
            r.tokensPerSecond(),
            r.elapsedSeconds(),
            r.skipped() ? 1 : 0,
            extra(r.extra(), extraColumns));
    try {
      out.write(row);
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file + ": " + e, e);
    }
  }

  /** The statistics as cells; a step without them (inside a round) gets empty cells. */
  private static String extra(double[] v, int columns) {
    StringBuilder sb = new StringBuilder();
    if (v == null) {
      sb.append(",".repeat(columns));
    } else {
      for (double x : v) {
        sb.append(',')
            .append(
                x == Math.rint(x) && Math.abs(x) < 1e15
                    ? String.valueOf((long) x)
                    : String.format(Locale.ROOT, "%.6g", x));
      }
    }
    return sb.toString();
  }

  /** A run's loss curves: (step, train loss) and (step, eval loss) points. */
  public record Curves(List<double[]> train, List<double[]> eval) {}

  /** The curves so far. */
  public Curves curves() {
    return new Curves(curve, evalCurve);
  }

  /** The curves of a finished run's metrics.csv. */
  public static Curves read(Path file) {
    MetricsCsv m = new MetricsCsv(file, List.of());
    try {
      Files.readAllLines(file, StandardCharsets.UTF_8).forEach(m::remember);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
    return m.curves();
  }

  /** (step, train loss) points so far. */
  public List<double[]> trainCurve() {
    return curve;
  }

  /** (step, eval loss) points so far. */
  public List<double[]> evalCurve() {
    return evalCurve;
  }

  @Override
  public void close() {
    flush(null);
    try {
      if (out != null) {
        out.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
