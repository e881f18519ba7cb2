package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.Trainer;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run on the Spark driver, as a table of contents: load the model's shape, lay out the
 * adapters, check the memory, read the data, resume or start, train with executors computing
 * gradients, export the PEFT adapter and charts, report. {@link RunSession} holds the machinery.
 */
public final class TrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  private TrainJob() {}

  /** A run and its same-budget LoRA baseline (null when none ran). */
  public record Outcome(RunResult run, RunResult baseline) {}

  /**
   * Trains the run and, when the config asks for one, its same-budget baseline; each run's
   * report.json is written once (the run's with the baseline in it, also when the baseline fails).
   */
  public static Outcome runWithBaseline(SparkSession spark, RunConfig cfg, boolean fresh) {
    RunResult run = train(spark, cfg, fresh);
    RunResult baseline = null;
    try {
      baseline = Baseline.wanted(cfg) ? Baseline.run(spark, run) : null;
    } finally {
      RunReport.write(run, baseline);
    }
    return new Outcome(run, baseline);
  }

  /** Trains one run and writes its report.json (no baseline). */
  public static RunResult run(SparkSession spark, RunConfig cfg, boolean fresh) {
    RunResult r = train(spark, cfg, fresh);
    RunReport.write(r, null);
    return r;
  }

  /**
   * One run, start to end.
   *
   * @param fresh ignore existing checkpoints (otherwise the latest one is resumed)
   */
  static RunResult train(SparkSession spark, RunConfig cfg, boolean fresh) {
    long t0 = System.nanoTime();
    RunPaths paths = createFolder(cfg);
    ModelConfig model = ModelConfigs.load(Path.of(cfg.model().path()));
    AdapterLayout layout = layout(cfg, model);
    TrainData data = TrainData.load(spark, cfg);
    MemoryCheck memory = preflight(cfg, model, layout, data.maxLength());
    try (RunSession s = RunSession.open(spark, cfg, model, data, memory)) {
      Evaluator.Result base = s.evaluateBase();
      Trainer.Summary summary = s.train(s.resumeOrCreate(paths, layout, fresh));
      s.export(paths, base);
      LOG.info("run {} done: adapter in {}", cfg.run().name(), paths.adapter());
      return s.result(paths, summary, base, layout, memory, (System.nanoTime() - t0) / 1e9);
    }
  }

  /** The run's folder, with the resolved config written into it. */
  private static RunPaths createFolder(RunConfig cfg) {
    RunPaths paths = new RunPaths(Path.of(cfg.run().outputDir(), cfg.run().name()));
    AtomicFiles.writeString(paths.config(), RunConfigs.toYaml(cfg));
    return paths;
  }

  /** The adapters the run starts with, logged as a table. */
  private static AdapterLayout layout(RunConfig cfg, ModelConfig model) {
    AdapterLayout layout = cfg.initialLayout(model);
    LOG.info(
        "adapters ({}, {} strategy):\n{}",
        cfg.method(),
        cfg.lora().strategy().name(),
        RankTable.render(layout, model.baseParameters()));
    return layout;
  }

  /** The memory estimate, logged; a run that would not fit train.memory_gib stops here. */
  private static MemoryCheck preflight(
      RunConfig cfg, ModelConfig model, AdapterLayout layout, int seq) {
    MemoryCheck c = MemoryCheck.preflight(cfg, model, layout, seq);
    if (cfg.train().microBatch() == 0) {
      LOG.info(
          "train.micro_batch 0: using {}, the largest that fits train.memory_gib={}",
          c.setup().microBatch(),
          cfg.train().memoryGib());
    }
    LOG.info("memory estimate per worker (seq {}):\n{}", seq, c.describe());
    return c;
  }
}
