package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.run.RunFingerprint;
import dev.l1ra.core.safetensors.ShardedCheckpoint;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.job.run.Resume;
import dev.l1ra.job.run.RunFolder;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.Trainer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run on the Spark driver, as a table of contents: claim the run folder (lock, {@code
 * --fresh}, leftovers), load the model's shape and check its files, lay out the adapters, read the
 * data, decide where to start (a checkpoint of the same run, or nothing; a finished run is left
 * alone), check the memory, train with executors computing gradients, export the PEFT adapter and
 * charts, report. {@link RunSession} holds the machinery.
 */
public final class TrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  private TrainJob() {}

  /**
   * A run and its same-budget LoRA baseline (null when none ran); or, when the run was already
   * finished and left as it was, only {@code finished}, its folder.
   */
  public record Outcome(RunResult run, RunResult baseline, RunPaths finished) {}

  /**
   * Trains the run and, when the config asks for one, its same-budget baseline; each run's
   * report.json is written once (the run's with the baseline in it, also when the baseline fails).
   * A finished run (with its baseline's results when it wants one) is left as it is.
   */
  public static Outcome runWithBaseline(SparkSession spark, RunConfig cfg, boolean fresh) {
    RunPaths paths = paths(cfg);
    boolean complete = !Baseline.wanted(cfg) || RunReport.hasBaseline(paths.report());
    Optional<RunResult> run = train(spark, cfg, fresh, complete);
    if (run.isEmpty()) {
      return new Outcome(null, null, paths);
    }
    RunResult baseline = null;
    try {
      baseline = Baseline.wanted(cfg) ? Baseline.run(spark, run.get(), fresh) : null;
    } finally {
      RunReport.write(run.get(), baseline);
    }
    return new Outcome(run.get(), baseline, null);
  }

  /**
   * Trains one run and writes its report.json (no baseline). A finished run is evaluated and
   * exported again from its final checkpoint (no step trained), for its result.
   */
  public static RunResult run(SparkSession spark, RunConfig cfg, boolean fresh) {
    RunResult r = train(spark, cfg, fresh, false).orElseThrow();
    RunReport.write(r, null);
    return r;
  }

  /** Where a run's outputs go. */
  static RunPaths paths(RunConfig cfg) {
    return new RunPaths(Path.of(cfg.run().outputDir(), cfg.run().name()));
  }

  /**
   * One run, start to end, holding its folder's lock throughout.
   *
   * @param fresh move an existing run's files aside and start over (else resume the newest
   *     checkpoint, after checking it belongs to this config)
   * @param leaveFinished a finished run is left as it is (empty result) instead of exported again
   */
  static Optional<RunResult> train(
      SparkSession spark, RunConfig cfg, boolean fresh, boolean leaveFinished) {
    long t0 = System.nanoTime();
    RunPaths paths = paths(cfg);
    try (RunFolder folder = RunFolder.claim(paths, fresh)) {
      ModelConfig model = loadModel(cfg);
      AdapterLayout layout = layout(cfg, model);
      TrainData data = TrainData.load(spark, cfg);
      Map<String, String> fingerprint = RunFingerprint.of(cfg, model, layout, data.fingerprint());
      int steps = cfg.train().totalSteps(data.size());
      Resume start = Resume.decide(paths, cfg.run().name(), fingerprint, steps);
      if (start.finished() && leaveFinished) {
        logFinished(paths, start);
        return Optional.empty();
      }
      MemoryCheck memory = preflight(cfg, model, layout, data.maxLength());
      AtomicFiles.writeString(paths.config(), RunConfigs.toYaml(cfg));
      Map<String, String> provenance = Provenance.of(spark, cfg, data.fingerprint());
      try (RunSession s = RunSession.open(spark, cfg, model, data, memory)) {
        Evaluator.Result base = s.evaluateBase();
        Trainer.Summary summary = s.train(s.resumeOrCreate(paths, layout, start, fingerprint));
        s.export(paths, base, provenance);
        folder.removeLeftovers();
        LOG.info("run {} done: adapter in {}", cfg.run().name(), paths.adapter());
        double secs = (System.nanoTime() - t0) / 1e9;
        return Optional.of(s.result(paths, summary, base, layout, memory, secs, provenance));
      }
    }
  }

  /**
   * The model's config.json, with its weight files checked here on the driver (headers and sizes)
   * so that a truncated or corrupt file stops the run before any Spark task loads it.
   */
  private static ModelConfig loadModel(RunConfig cfg) {
    Path dir = Path.of(cfg.model().path());
    ModelConfig model = ModelConfigs.load(dir);
    ShardedCheckpoint.verifyModelDir(dir);
    return model;
  }

  private static void logFinished(RunPaths paths, Resume start) {
    LOG.info(
        "run {} is finished (step {}); left as it is: adapter {}, report {}, metrics {}."
            + " To train longer set train.steps above {}; --fresh starts over",
        paths.dir(),
        start.state().step(),
        paths.adapter(),
        paths.report(),
        paths.metrics(),
        start.state().step());
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
