package dev.l1ra.job;

import dev.l1ra.core.config.Method;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.job.report.LossChart;
import dev.l1ra.job.report.MetricsCsv;
import dev.l1ra.job.report.RunResult;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same-budget LoRA baseline of a run: fixed uniform rank r = Σr / adapters (for AdaLoRA, its
 * target_r), otherwise the same settings, trained as run {@code <name>-lora-baseline}; its results
 * go into the main run's report.json under {@code baseline} (written by {@link
 * TrainJob#runWithBaseline}) and its loss curves into the main run's loss chart.
 */
final class Baseline {
  private static final Logger LOG = LoggerFactory.getLogger(Baseline.class);

  private Baseline() {}

  /** Whether a run of {@code cfg} gets a baseline: run.baseline and a method that moves ranks. */
  static boolean wanted(RunConfig cfg) {
    return cfg.run().baseline() && cfg.method() != Method.LORA;
  }

  /**
   * Trains the baseline of {@code main} (its report written) and redraws main's loss chart.
   *
   * @param fresh the main run started over, so the baseline does too
   */
  static RunResult run(SparkSession spark, RunResult main, boolean fresh) {
    RunConfig cfg = main.config();
    int adapters = main.finalLayout().size();
    int r =
        cfg.usesAdaLora()
            ? cfg.adalora().targetR()
            : Math.max(1, Math.round((float) main.finalLayout().totalRank() / adapters));
    double alpha = cfg.usesAdaLora() ? cfg.lora().alpha() : cfg.lora().alpha() * r / cfg.lora().r();
    RunConfig b =
        RunConfigs.load(
            main.paths().config(),
            List.of(
                "method=lora",
                "lora.strategy=uniform",
                "lora.r=" + r,
                "lora.alpha=" + alpha,
                "run.name=" + cfg.run().name() + "-lora-baseline",
                "run.baseline=false"));
    LOG.info("same-budget LoRA baseline: r = {} on {} adapters (Σr {})", r, adapters, r * adapters);
    RunResult base = TrainJob.run(spark, b, fresh);
    LossChart.write(
        main.paths().lossCurve(),
        cfg.run().name(),
        MetricsCsv.read(main.paths().metrics()),
        main.baseEval(),
        MetricsCsv.read(base.paths().metrics()));
    if (main.summary().finalEval() != null && base.summary().finalEval() != null) {
      LOG.info(
          "{} eval perplexity {} vs same-budget LoRA (Σr {}) {}",
          cfg.method(),
          String.format("%.3f", main.summary().finalEval().perplexity()),
          base.finalLayout().totalRank(),
          String.format("%.3f", base.summary().finalEval().perplexity()));
    }
    return base;
  }
}
