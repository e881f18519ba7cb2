package dev.l1ra.job.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.memory.MemoryEstimate;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.TrainJob;
import dev.l1ra.job.spark.SparkGradients;
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

  public static void write(
      Path file,
      RunConfig cfg,
      ModelConfig model,
      AdapterLayout initial,
      TrainJob.Result r,
      double seconds,
      SparkGradients grads,
      MemoryEstimate memory,
      int microBatch) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode n = json.createObjectNode();
    n.put("run", cfg.run().name());
    n.put("method", cfg.method().toString());
    n.put("strategy", cfg.lora().strategy().name());
    n.put("model", cfg.model().path());
    n.put("model_type", model.modelType());
    n.put("base_parameters", model.baseParameters());
    n.put("precision", cfg.model().precision().toString());
    n.put("steps", r.summary().steps());
    n.put("skipped_steps", r.summary().skippedSteps());
    n.put("final_train_loss", r.summary().finalLoss());
    eval(n, "base_eval", r.baseEval());
    eval(n, "final_eval", r.summary().finalEval());
    AdapterLayout fin = r.finalLayout();
    n.put("allocation_events", r.allocationEvents());
    n.put("ranks_moved", r.ranksMoved());
    n.put("total_rank", fin.totalRank());
    n.put("initial_total_rank", initial.totalRank());
    n.put("trainable_parameters", fin.parameters());
    n.put("trainable_percent_of_base", 100.0 * fin.parameters() / model.baseParameters());
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
    n.put("seconds", seconds);
    n.put("train_seconds", r.summary().seconds());
    n.put("spark_gradient_seconds", grads.sparkSeconds());
    n.put("task_compute_seconds", grads.computeSeconds());
    if (grads.steps() > 0) {
      // where a step's time goes: the slowest task's forward/backward, Spark's scheduling,
      // broadcast and aggregation around it, and the driver's optimizer, evals and checkpoints
      ObjectNode split = n.putObject("per_step_ms");
      double k = 1000.0 / grads.steps();
      split.put("task_compute", grads.computeSeconds() * k);
      split.put("spark_overhead", (grads.sparkSeconds() - grads.computeSeconds()) * k);
      split.put("driver", (r.summary().seconds() - grads.sparkSeconds()) * k);
    }
    n.put("peak_resident_bytes", peakResidentBytes());
    ObjectNode estimate = n.putObject("memory_estimate_bytes"); // one worker's device, analytic
    memory.terms().forEach(estimate::put);
    n.put("spark_partitions", cfg.spark().partitions());
    n.put("micro_batch", microBatch); // as run (train.micro_batch 0 resolves to what fits)
    try {
      AtomicFiles.write(file, json.writeValueAsBytes(n));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void eval(ObjectNode n, String key, Evaluator.Result e) {
    if (e == null) {
      n.putNull(key);
      return;
    }
    ObjectNode o = n.putObject(key);
    o.put("loss", e.loss());
    o.put("perplexity", e.perplexity());
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
