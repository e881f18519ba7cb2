package dev.l1ra.job.report;

import dev.l1ra.model.train.Evaluator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code loss_curve.png}: train and eval loss over the steps, the eval curve starting from the base
 * model's eval loss at step 0, and with a same-budget LoRA baseline its curves dashed beside.
 */
public final class LossChart {
  private LossChart() {}

  /**
   * Draws the chart (or warns and skips it; see {@link Charts}).
   *
   * @param base the base model's eval (step 0), or null when the run has no eval data
   * @param baseline the same-budget LoRA baseline's curves, or null
   */
  public static void write(
      Path file,
      String runName,
      MetricsCsv.Curves run,
      Evaluator.Result base,
      MetricsCsv.Curves baseline) {
    Charts.lines(
        file,
        "loss: " + runName,
        "step",
        "loss",
        series(run, base == null ? Double.NaN : base.loss(), baseline));
  }

  static List<Charts.Series> series(
      MetricsCsv.Curves run, double baseLoss, MetricsCsv.Curves baseline) {
    List<Charts.Series> s = new ArrayList<>();
    s.add(new Charts.Series("train", run.train()));
    s.add(new Charts.Series("eval (step 0: base)", fromBase(run.eval(), baseLoss), false, true));
    if (baseline != null) {
      s.add(new Charts.Series("LoRA baseline train", baseline.train(), true, false));
      s.add(
          new Charts.Series("LoRA baseline eval", fromBase(baseline.eval(), baseLoss), true, true));
    }
    return s;
  }

  /** The eval points, preceded by the base model's at step 0. */
  private static List<double[]> fromBase(List<double[]> eval, double baseLoss) {
    List<double[]> pts = new ArrayList<>();
    if (Double.isFinite(baseLoss)) {
      pts.add(new double[] {0, baseLoss});
    }
    pts.addAll(eval);
    return pts;
  }
}
