package dev.l1ra.job.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.model.train.Evaluator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code report.json}: what was trained and how it went — method, ranks, trainable parameters, base
 * and final eval perplexity, time, peak memory, the Spark/compute split.
 */
public final class RunReport {
  private RunReport() {}

  /**
   * Writes the run's report.json, once: with the same-budget baseline's results under {@code
   * baseline} when there is one.
   *
   * @param baseline the baseline run, or null
   */
  public static void write(RunResult r, RunResult baseline) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode n = json.createObjectNode();
    identity(n, r);
    outcome(n, r);
    ranks(n, r);
    time(n, r);
    n.put("peak_resident_bytes", peakResidentBytes());
    ObjectNode estimate = n.putObject("memory_estimate_bytes"); // one worker's device, analytic
    r.memory().terms().forEach(estimate::put);
    n.put("spark_partitions", r.config().spark().partitions());
    n.put("spark_mode", r.config().spark().mode().toString());
    if (r.config().spark().rounds()) {
      n.put("round_steps", r.config().spark().roundSteps());
    }
    n.put("micro_batch", r.microBatch()); // as run (train.micro_batch 0 resolves to what fits)
    ObjectNode provenance = n.putObject("provenance");
    r.provenance().forEach(provenance::put);
    if (baseline != null) {
      baseline(n.putObject("baseline"), baseline);
    }
    try {
      AtomicFiles.write(r.paths().report(), json.writeValueAsBytes(n));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write " + r.paths().report() + ": " + e.getMessage(), e);
    }
  }

  /** Whether a run's report.json holds its same-budget baseline's results. */
  public static boolean hasBaseline(Path report) {
    try {
      return Files.isRegularFile(report)
          && new ObjectMapper().readTree(report.toFile()).has("baseline");
    } catch (IOException e) {
      return false;
    }
  }

  private static void identity(ObjectNode n, RunResult r) {
    RunConfig cfg = r.config();
    n.put("run", cfg.run().name());
    n.put("method", cfg.method().toString());
    n.put("strategy", cfg.lora().strategy().name());
    n.put("model", cfg.model().path());
    n.put("model_type", r.model().modelType());
    n.put("base_parameters", r.model().baseParameters());
    n.put("precision", cfg.model().precision().toString());
  }

  private static void outcome(ObjectNode n, RunResult r) {
    n.put("steps", r.summary().steps());
    n.put("skipped_steps", r.summary().skippedSteps());
    number(n, "final_train_loss", r.summary().finalLoss());
    eval(n, "base_eval", r.baseEval());
    eval(n, "final_eval", r.summary().finalEval());
  }

  private static void ranks(ObjectNode n, RunResult r) {
    AdapterLayout fin = r.finalLayout();
    n.put("allocation_events", r.allocationEvents());
    n.put("ranks_moved", r.ranksMoved());
    n.put("total_rank", fin.totalRank());
    n.put("initial_total_rank", r.initialLayout().totalRank());
    n.put("trainable_parameters", fin.parameters());
    n.put("trainable_percent_of_base", 100.0 * fin.parameters() / r.model().baseParameters());
    ArrayNode types = n.putArray("rank_by_module_type");
    for (RankTable.Row row : RankTable.rows(fin)) {
      ObjectNode t = types.addObject();
      t.put("module", row.module());
      t.put("mean_rank", row.meanRank());
      t.put("min_rank", row.minRank());
      t.put("max_rank", row.maxRank());
      t.put("parameters", row.parameters());
    }
    ObjectNode ranks = n.putObject("ranks");
    for (AdapterSpec s : fin.specs()) {
      ranks.put(s.id().hfName(), s.rank());
    }
  }

  /**
   * Wall time and where a step's time went: the slowest task's forward/backward, Spark's
   * scheduling, broadcast and aggregation around it, and the driver's optimizer, evals and
   * checkpoints.
   */
  private static void time(ObjectNode n, RunResult r) {
    RunResult.StepSplit s = r.split();
    n.put("seconds", r.seconds());
    n.put("train_seconds", r.summary().seconds());
    n.put("spark_gradient_seconds", s.sparkSeconds());
    n.put("task_compute_seconds", s.computeSeconds());
    if (s.steps() > 0) {
      ObjectNode split = n.putObject("per_step_ms");
      double k = 1000.0 / s.steps();
      split.put("task_compute", s.computeSeconds() * k);
      split.put("spark_overhead", (s.sparkSeconds() - s.computeSeconds()) * k);
      split.put("driver", (r.summary().seconds() - s.sparkSeconds()) * k);
    }
  }

  /** The same-budget LoRA run beside this one. */
  private static void baseline(ObjectNode b, RunResult base) {
    b.put("method", "lora");
    b.put("run", base.paths().dir().toString());
    b.put("total_rank", base.finalLayout().totalRank());
    b.put("trainable_parameters", base.finalLayout().parameters());
    b.put("seconds", base.summary().seconds());
    if (base.summary().finalEval() != null) {
      number(b, "eval_loss", base.summary().finalEval().loss());
      number(b, "perplexity", base.summary().finalEval().perplexity());
    }
  }

  /** A number, or null when it is not finite (JSON has no NaN). */
  private static void number(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) {
      n.put(key, v);
    } else {
      n.putNull(key);
    }
  }

  private static void eval(ObjectNode n, String key, Evaluator.Result e) {
    if (e == null) {
      n.putNull(key);
      return;
    }
    ObjectNode o = n.putObject(key);
    number(o, "loss", e.loss());
    number(o, "perplexity", e.perplexity());
    o.put("tokens", e.tokens());
  }

  /** Peak resident set of this JVM (VmHWM; includes local executors in local mode). */
  public static long peakResidentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
