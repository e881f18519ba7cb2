package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.AdaLoraSection;
import dev.l1ra.core.config.L1raSection;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.plan.AdaLoraBudget;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.core.plan.RankTable;
import dev.l1ra.core.schedule.LearningRateSchedule;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.LossChart;
import dev.l1ra.job.report.MetricsCsv;
import dev.l1ra.job.report.RanksCsv;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.job.spark.SparkEvaluator;
import dev.l1ra.job.spark.SparkGradients;
import dev.l1ra.job.spark.WorkerSpec;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.train.AdaLoraController;
import dev.l1ra.model.train.AdamW;
import dev.l1ra.model.train.Checkpoint;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.L1raController;
import dev.l1ra.model.train.LossScaler;
import dev.l1ra.model.train.RankController;
import dev.l1ra.model.train.TrainOptimizer;
import dev.l1ra.model.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run on the Spark driver: the table of contents of a run. Read the data, lay out the
 * adapters, resume or start, train with executors computing gradients, then export the PEFT
 * adapter, charts and the report.
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
   */
  public static Result run(SparkSession spark, RunConfig cfg, boolean fresh) {
    long t0 = System.nanoTime();
    RunPaths paths = new RunPaths(Path.of(cfg.run().outputDir(), cfg.run().name()));
    AtomicFiles.writeString(paths.config(), RunConfigs.toYaml(cfg));
    ModelConfig model = ModelConfigs.load(Path.of(cfg.model().path()));
    TrainData data = TrainData.load(spark, cfg);
    int total = totalSteps(cfg, data.size());
    AdapterLayout layout = InitialLayout.of(cfg, model);
    LOG.info(
        "adapters ({}, {} strategy):\n{}",
        cfg.method(),
        cfg.lora().strategy().name(),
        RankTable.render(layout, model.baseParameters()));
    MemoryCommand.Check memory = MemoryCommand.preflight(cfg, model, layout, data.maxLength());
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    WorkerSpec spec = workerSpec(cfg, model, memory.setup().microBatch());
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
                driver);
        SparkEvaluator eval =
            data.eval() == null
                ? null
                : new SparkEvaluator(sc, data.eval(), spec, cfg.spark().partitions())) {
      Evaluator.Result base = eval == null ? null : eval.evaluate(null);
      Optional<Path> ckpt = fresh ? Optional.empty() : Checkpoint.latest(paths.checkpoints());
      Checkpoint.State resume = ckpt.map(Checkpoint::readState).orElse(null);
      AdapterSet adapters =
          resume == null
              ? newAdapters(cfg, layout, driver)
              : Checkpoint.restore(ckpt.get(), resume, driver, opt.adam());
      RanksCsv ranks = new RanksCsv(paths.ranks());
      ranks.start(layout, resume == null ? 0 : resume.step());
      RankController controller = controller(cfg, total, layout, ranks, driver);
      try (MetricsCsv metrics = new MetricsCsv(paths.metrics(), controller.statNames())) {
        Trainer trainer =
            new Trainer(
                settings(cfg, total, paths),
                adapters,
                opt,
                grads,
                eval,
                controller,
                scaler(cfg),
                List.of(metrics));
        if (resume != null) {
          LOG.info("resuming from step {} ({})", resume.step(), ckpt.get());
          trainer.restore(
              resume, Checkpoint.readTensors(ckpt.get(), Checkpoint.CONTROLLER, driver));
        }
        Trainer.Summary summary = trainer.run(resume == null ? 0 : resume.step());
        Result r =
            new Result(
                paths,
                summary,
                base,
                adapters.effectiveLayout(),
                ranks.events(),
                controller.ranksMoved());
        export(cfg, model, adapters, paths, metrics, ranks, base);
        RunReport.write(
            paths.report(),
            cfg,
            model,
            layout,
            r,
            (System.nanoTime() - t0) / 1e9,
            grads,
            memory.estimate(),
            memory.setup().microBatch());
        LOG.info(
            "run {} done: adapter in {}, report in {}",
            cfg.run().name(),
            paths.adapter(),
            paths.report());
        adapters.close();
        return r;
      }
    }
  }

  /** New adapters: gated LoRA for L1RA, SVD-form for AdaLoRA, plain LoRA otherwise. */
  private static AdapterSet newAdapters(RunConfig cfg, AdapterLayout layout, NDManager m) {
    if (cfg.usesAdaLora()) {
      List<Adapter> list = new ArrayList<>();
      layout.specs().forEach(s -> list.add(AdaLoraAdapter.create(s, m, cfg.run().seed())));
      return new AdapterSet(list, cfg.lora().dropout());
    }
    return AdapterSet.create(
        layout, m, cfg.lora().init(), cfg.run().seed(), cfg.usesL1ra(), cfg.lora().dropout());
  }

  /** The rank controller of the method ({@link RankController#NONE} for fixed-rank LoRA). */
  private static RankController controller(
      RunConfig cfg, int total, AdapterLayout layout, RanksCsv ranks, NDManager m) {
    if (cfg.usesL1ra()) {
      L1raSection l = cfg.l1ra();
      L1raPlanner.Settings ps =
          new L1raPlanner.Settings(
              cfg.train().lr(),
              l.lambda(),
              l.pruneThreshold(),
              l.reassign(),
              l.excludePruned(),
              l.budget());
      int warmup = l.afterWarmup() ? cfg.train().warmupSteps(total) : 0;
      return new L1raController(
          ps,
          l.interval(total),
          warmup,
          cfg.run().seed(),
          layout,
          l.rescaleAlpha(),
          List.of(ranks));
    }
    if (cfg.usesAdaLora()) {
      AdaLoraSection a = cfg.adalora();
      AdaLoraBudget b =
          new AdaLoraBudget(
              layout.totalRank(),
              a.targetR() * layout.size(),
              a.tinit(),
              a.tfinal(),
              a.deltaT(),
              total);
      return new AdaLoraController(b, a.beta1(), a.beta2(), a.orthRegWeight(), m, List.of(ranks));
    }
    return RankController.NONE;
  }

  /** The PEFT adapter and the charts (a chart that cannot be drawn is skipped with a warning). */
  private static void export(
      RunConfig cfg,
      ModelConfig model,
      AdapterSet adapters,
      RunPaths paths,
      MetricsCsv metrics,
      RanksCsv ranks,
      Evaluator.Result base) {
    PeftAdapters.save(adapters, paths.adapter(), cfg.model().path(), model.family().architecture());
    LossChart.write(paths.lossCurve(), cfg.run().name(), metrics.curves(), base, null);
    ranks.charts(
        adapters.effectiveLayout(),
        model.numLayers(),
        paths.rankHeatmap(),
        paths.rankEvolution(),
        cfg.run().name());
  }

  static int totalSteps(RunConfig cfg, int samples) {
    if (cfg.train().steps() > 0) {
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
    return cfg.model().precision() == Precision.FP16
        ? LossScaler.dynamic(cfg.train().lossScale())
        : LossScaler.disabled();
  }

  static WorkerSpec workerSpec(RunConfig cfg, ModelConfig model, int microBatch) {
    int pad = model.padTokenId() >= 0 ? model.padTokenId() : 0;
    return new WorkerSpec(
        Path.of(cfg.model().path()).toAbsolutePath().toString(),
        cfg.model().precision(),
        cfg.model().device(),
        cfg.model().attention(),
        pad,
        microBatch,
        cfg.train().threads(),
        cfg.train().recompute());
  }
}
