package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.LossChart;
import dev.l1ra.job.report.MetricsCsv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same-budget LoRA baseline of a run: fixed uniform rank r = Σr / adapters (for AdaLoRA, its
 * target_r), otherwise the same settings, trained as run {@code <name>-lora-baseline}; its results
 * go into the main run's report.json under {@code baseline} and its loss curves into the main run's
 * loss chart.
 */
final class Baseline {
  private static final Logger LOG = LoggerFactory.getLogger(Baseline.class);

  private Baseline() {}

  static TrainJob.Result run(SparkSession spark, RunConfig cfg, TrainJob.Result main) {
    int adapters = main.finalLayout().size();
    int r =
        cfg.usesAdaLora()
            ? cfg.adalora().targetR()
            : Math.max(1, Math.round((float) main.finalLayout().totalRank() / adapters));
    double alpha = cfg.usesAdaLora() ? cfg.lora().alpha() : cfg.lora().alpha() * r / cfg.lora().r();
    Path file = main.paths().config();
    RunConfig b =
        RunConfigs.load(
            file,
            List.of(
                "method=lora",
                "lora.strategy=uniform",
                "lora.r=" + r,
                "lora.alpha=" + alpha,
                "run.name=" + cfg.run().name() + "-lora-baseline",
                "run.baseline=false"));
    LOG.info("same-budget LoRA baseline: r = {} on {} adapters (Σr {})", r, adapters, r * adapters);
    TrainJob.Result base = TrainJob.run(spark, b, false);
    addToReport(main.paths().report(), base);
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

  private static void addToReport(Path report, TrainJob.Result base) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    try {
      ObjectNode n = (ObjectNode) json.readTree(report.toFile());
      ObjectNode b = n.putObject("baseline");
      b.put("method", "lora");
      b.put("run", base.paths().dir().toString());
      b.put("total_rank", base.finalLayout().totalRank());
      b.put("trainable_parameters", base.finalLayout().parameters());
      b.put("seconds", base.summary().seconds());
      if (base.summary().finalEval() != null) {
        b.put("eval_loss", base.summary().finalEval().loss());
        b.put("perplexity", base.summary().finalEval().perplexity());
      }
      AtomicFiles.write(report, json.writeValueAsBytes(n));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot add the baseline to " + report + ": " + e, e);
    }
  }
}
