package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.L1raSection;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.schedule.LearningRateSchedule;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.Charts;
import dev.l1ra.job.report.MetricsCsv;
import dev.l1ra.job.report.RanksCsv;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.job.spark.SparkEvaluator;
import dev.l1ra.job.spark.SparkGradients;
import dev.l1ra.job.spark.WorkerSpec;
import dev.l1ra.model.adapter.AdapterInit;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.engine.Precision;
import dev.l1ra.model.train.AdamW;
import dev.l1ra.model.train.Checkpoint;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.L1raController;
import dev.l1ra.model.train.LossScaler;
import dev.l1ra.model.train.RankController;
import dev.l1ra.model.train.TrainListener;
import dev.l1ra.model.train.TrainOptimizer;
import dev.l1ra.model.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run on the Spark driver: the table of contents of a run. Prepare model and data, lay
 * out the adapters, resume or start, train with executors computing gradients, then export the PEFT
 * adapter and the report.
 */
public final class TrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  private TrainJob() {}

  /** What a finished run produced. */
  public record Result(
      RunPaths paths,
      Trainer.Summary summary,
      Evaluator.Result baseEval,
      AdapterLayout finalLayout,
      int allocationEvents,
      int ranksMoved) {}

  /**
   * Runs training for a config.
   *
   * @param fresh ignore existing checkpoints (otherwise the latest one is resumed)
   * @param failOnce test hook: fail the first attempt of one task at this step (−1: never)
   */
  public static Result run(SparkSession spark, RunConfig cfg, boolean fresh, int failOnce) {
    long t0 = System.nanoTime();
    RunPaths paths = new RunPaths(Path.of(cfg.run().outputDir(), cfg.run().name()));
    AtomicFiles.writeString(paths.config(), RunConfigs.toYaml(cfg));
    ModelConfig model = ModelConfigs.load(Path.of(cfg.model().path()));
    Precision.parse(cfg.model().precision()); // fail early on bf16
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    TrainData data = TrainData.load(spark, cfg);
    int total = totalSteps(cfg, data.size());
    AdapterLayout layout = InitialLayout.of(cfg, model);
    LOG.info(
        "adapters ({}, {} strategy):\n{}",
        cfg.method(),
        cfg.lora().strategy(),
        RankTable.render(layout, model.baseParameters()));
    WorkerSpec spec = workerSpec(cfg, model);
    try (NDManager driver = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        TrainOptimizer opt = new TrainOptimizer(adamSettings(cfg), driver);
        SparkGradients grads =
            new SparkGradients(
                sc,
                data.indexed(),
                data.learned(),
                spec,
                cfg.run().seed(),
                cfg.train().globalBatch(),
                cfg.spark().partitions(),
                driver,
                failOnce);
        SparkEvaluator eval =
            data.eval() == null
                ? null
                : new SparkEvaluator(sc, data.eval(), spec, cfg.spark().partitions());
        MetricsCsv metrics = new MetricsCsv(paths.metrics())) {
      Evaluator.Result base = eval == null ? null : eval.evaluate(null);
      Checkpoint.State resume =
          fresh
              ? null
              : Checkpoints.latest(paths.checkpoints()).map(Checkpoint::readState).orElse(null);
      AdapterSet adapters =
          resume == null
              ? AdapterSet.create(
                  layout,
                  driver,
                  AdapterInit.valueOf(cfg.lora().init().toUpperCase()),
                  cfg.run().seed(),
                  cfg.usesL1ra(),
                  cfg.lora().dropout())
              : Checkpoint.restore(
                  Checkpoints.latest(paths.checkpoints()).orElseThrow(),
                  resume,
                  driver,
                  opt.adam());
      RanksCsv ranks = new RanksCsv(paths.ranks());
      ranks.start(layout, resume == null ? 0 : resume.step());
      int total0 = total;
      RankController controller = cfg.usesL1ra() ? l1ra(cfg, total0, List.of(ranks)) : null;
      List<TrainListener> listeners = new ArrayList<>(List.of(metrics));
      Trainer trainer =
          new Trainer(
              settings(cfg, total, paths),
              adapters,
              opt,
              grads,
              eval,
              controller,
              scaler(cfg),
              listeners);
      if (resume != null) {
        LOG.info("resuming from step {} ({})", resume.step(), paths.checkpoints());
        trainer.restore(resume);
      }
      Trainer.Summary summary = trainer.run(resume == null ? 0 : resume.step());
      PeftAdapters.save(adapters, paths.adapter(), cfg.model().path(), modelClass(model));
      Charts.lines(
          paths.lossCurve(),
          "loss: " + cfg.run().name(),
          "step",
          "loss",
          List.of(
              new Charts.Series("train", metrics.trainCurve()),
              new Charts.Series("eval", metrics.evalCurve())));
      ranks.charts(
          adapters.layout(),
          model.numLayers(),
          paths.rankHeatmap(),
          paths.rankEvolution(),
          cfg.run().name());
      Result r =
          new Result(
              paths,
              summary,
              base,
              adapters.layout(),
              ranks.events(),
              controller instanceof L1raController l ? l.ranksMoved() : 0);
      RunReport.write(paths.report(), cfg, model, layout, r, (System.nanoTime() - t0) / 1e9, grads);
      LOG.info(
          "run {} done: adapter in {}, report in {}",
          cfg.run().name(),
          paths.adapter(),
          paths.report());
      adapters.close();
      return r;
    }
  }

  /** L1RA's controller: events every rank_update_ratio·T (or rank_update_steps) steps. */
  private static L1raController l1ra(
      RunConfig cfg, int total, List<L1raController.Listener> listeners) {
    L1raSection l = cfg.l1ra();
    L1raPlanner.Settings ps =
        new L1raPlanner.Settings(
            cfg.train().lr(),
            l.lambda(),
            l.pruneThreshold(),
            l.reassign(),
            l.excludePruned(),
            l.budget().equals("parameters")
                ? L1raPlanner.Budget.PARAMETERS
                : L1raPlanner.Budget.RANK);
    int warmup = l.afterWarmup() ? cfg.train().warmupSteps(total) : 0;
    return new L1raController(ps, l.interval(total), warmup, cfg.run().seed(), listeners);
  }

  static int totalSteps(RunConfig cfg, int samples) {
    if (cfg.train().steps() != null) {
      return cfg.train().steps();
    }
    return (int)
        Math.max(1, Math.floor(cfg.train().epochs() * (samples / cfg.train().globalBatch())));
  }

  private static Trainer.Settings settings(RunConfig cfg, int total, RunPaths paths) {
    LearningRateSchedule lr =
        new LearningRateSchedule(
            cfg.train().schedule(),
            cfg.train().lr(),
            cfg.train().warmupSteps(total),
            total,
            cfg.train().minLrRatio());
    TrainOptimizer.GateRule gates =
        cfg.usesL1ra()
            ? new TrainOptimizer.GateRule(
                cfg.l1ra().etaC(), cfg.l1ra().lambda(), cfg.l1ra().softThreshold())
            : null;
    return new Trainer.Settings(
        total,
        cfg.train().globalBatch(),
        cfg.run().seed(),
        lr::lr,
        cfg.train().weightDecay(),
        cfg.train().maxGradNorm(),
        gates,
        cfg.train().maxBadSteps(),
        cfg.train().logEvery(),
        cfg.train().evalEvery(),
        cfg.train().checkpointEvery(),
        paths.checkpoints(),
        cfg.train().keepCheckpoints());
  }

  private static AdamW.Settings adamSettings(RunConfig cfg) {
    return new AdamW.Settings(
        cfg.train().adamBeta1(), cfg.train().adamBeta2(), cfg.train().adamEps());
  }

  private static LossScaler scaler(RunConfig cfg) {
    return Precision.parse(cfg.model().precision()) == Precision.FP16
        ? LossScaler.dynamic(cfg.train().lossScale())
        : LossScaler.disabled();
  }

  static WorkerSpec workerSpec(RunConfig cfg, ModelConfig model) {
    int pad = model.padTokenId() >= 0 ? model.padTokenId() : 0;
    return new WorkerSpec(
        Path.of(cfg.model().path()).toAbsolutePath().toString(),
        cfg.model().precision(),
        cfg.model().device(),
        cfg.model().attention(),
        pad,
        cfg.train().microBatch(),
        cfg.train().threads(),
        cfg.train().recompute());
  }

  static String modelClass(ModelConfig m) {
    return switch (m.modelType()) {
      case "mistral" -> "MistralForCausalLM";
      case "qwen2" -> "Qwen2ForCausalLM";
      default -> "LlamaForCausalLM";
    };
  }
}
