package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.L1raSection;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.SparkSection;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.core.run.RunFingerprint;
import dev.l1ra.job.report.LossChart;
import dev.l1ra.job.report.MetricsCsv;
import dev.l1ra.job.report.RanksCsv;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.job.run.Resume;
import dev.l1ra.job.run.StopSignals;
import dev.l1ra.job.spark.OuterUpdate;
import dev.l1ra.job.spark.SparkEvaluator;
import dev.l1ra.job.spark.SparkGradients;
import dev.l1ra.job.spark.SparkRounds;
import dev.l1ra.job.spark.WorkerSpec;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.train.AdaLoraController;
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
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run's machinery on the driver: the driver's engine memory and optimizer, the Spark
 * gradient and eval jobs, and once the run is set up, its adapters, rank controller and output
 * files. Each step of {@link TrainJob#run} is one method here. Closing it releases everything.
 */
final class RunSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunSession.class);

  private final RunConfig cfg;
  private final ModelConfig model;
  private final int totalSteps;
  private final int microBatch;
  private final NDManager driver;
  private final TrainOptimizer optimizer;
  private final SparkGradients grads;
  private final SparkRounds rounds;
  private final SparkEvaluator eval;
  private AdapterSet adapters;
  private RankController controller = RankController.NONE;
  private RanksCsv ranks;
  private MetricsCsv metrics;

  private RunSession(
      RunConfig cfg, ModelConfig model, TrainData data, MemoryCheck memory, JavaSparkContext sc) {
    this.cfg = cfg;
    this.model = model;
    this.totalSteps = cfg.train().totalSteps(data.size());
    this.microBatch = memory.setup().microBatch();
    this.driver = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE);
    this.optimizer = new TrainOptimizer(cfg.train().adam(), driver);
    WorkerSpec spec = workerSpec(cfg, model, microBatch);
    PayloadDtype payload = PayloadDtype.parse(cfg.spark().payload().toString());
    SparkSection sp = cfg.spark();
    long seed = cfg.run().seed();
    int batch = cfg.train().globalBatch();
    this.grads =
        sp.rounds()
            ? null
            : new SparkGradients(
                sc,
                data.indexed(),
                data.learned(),
                spec,
                seed,
                batch,
                sp.partitions(),
                payload,
                driver);
    this.rounds =
        !sp.rounds()
            ? null
            : new SparkRounds(
                sc,
                data.indexed(),
                data.learned(),
                spec,
                seed,
                batch,
                sp.partitions(),
                sp.roundSteps(),
                cfg.train().adam(),
                payload,
                new OuterUpdate(sp.outerLr(), sp.outerMomentum(), driver));
    this.eval =
        data.eval() == null
            ? null
            : new SparkEvaluator(sc, data.eval(), spec, cfg.spark().partitions());
  }

  /** The driver side of a run on {@code spark}. */
  static RunSession open(
      SparkSession spark, RunConfig cfg, ModelConfig model, TrainData data, MemoryCheck memory) {
    return new RunSession(
        cfg, model, data, memory, JavaSparkContext.fromSparkContext(spark.sparkContext()));
  }

  /** The base model's eval loss (null without eval data). */
  Evaluator.Result evaluateBase() {
    return eval == null ? null : eval.evaluate(null);
  }

  /**
   * The trainer, resumed from the checkpoint {@code start} names or with new adapters of {@code
   * layout}; its checkpoints carry {@code fingerprint}, and it stops on {@link
   * StopSignals#REQUEST}.
   */
  Trainer resumeOrCreate(
      RunPaths paths, AdapterLayout layout, Resume start, Map<String, String> fingerprint) {
    Checkpoint.State resume = start.state();
    adapters =
        resume == null
            ? newAdapters(layout)
            : Checkpoint.restore(start.checkpoint(), resume, driver, optimizer.adam());
    ranks = new RanksCsv(paths.ranks());
    ranks.start(layout, resume == null ? 0 : resume.step());
    controller = controller(layout);
    metrics = new MetricsCsv(paths.metrics(), controller.statNames());
    Trainer trainer =
        rounds == null
            ? new Trainer(
                settings(paths),
                adapters,
                optimizer,
                grads,
                eval,
                controller,
                scaler(),
                List.of(metrics, StopSignals.REQUEST))
            : Trainer.inRounds(
                settings(paths),
                adapters,
                optimizer,
                rounds,
                eval,
                controller,
                scaler(),
                List.of(metrics, StopSignals.REQUEST));
    trainer.fingerprint(fingerprint);
    if (resume != null) {
      LOG.info("resuming from step {} ({})", resume.step(), start.checkpoint());
      trainer.restore(
          resume, Checkpoint.readTensors(start.checkpoint(), Checkpoint.CONTROLLER, driver));
    }
    return trainer;
  }

  /** Trains from the trainer's next step to the end. */
  Trainer.Summary train(Trainer trainer) {
    return trainer.run(trainer.nextStep());
  }

  /**
   * The PEFT adapter (base_model_name_or_path absolute, so it loads from any folder; with its
   * provenance) and the charts (a chart that cannot be drawn is skipped with a warning).
   */
  void export(RunPaths paths, Evaluator.Result base, Map<String, String> provenance) {
    PeftAdapters.save(
        adapters,
        paths.adapter(),
        RunFingerprint.absolute(cfg.model().path()),
        model.family().architecture(),
        provenance);
    LossChart.write(paths.lossCurve(), cfg.run().name(), metrics.curves(), base, null);
    ranks.charts(
        adapters.effectiveLayout(),
        model.numLayers(),
        paths.rankHeatmap(),
        paths.rankEvolution(),
        cfg.run().name());
  }

  /** What the run produced, for its report and the summary line. */
  RunResult result(
      RunPaths paths,
      Trainer.Summary summary,
      Evaluator.Result base,
      AdapterLayout initial,
      MemoryCheck memory,
      double seconds,
      Map<String, String> provenance) {
    return new RunResult(
        cfg,
        model,
        paths,
        summary,
        base,
        initial,
        adapters.effectiveLayout(),
        ranks.events(),
        controller.ranksMoved(),
        seconds,
        split(),
        memory.estimate(),
        microBatch,
        provenance);
  }

  /** Seconds of the training Spark jobs and of their compute (the busiest executor's). */
  private RunResult.StepSplit split() {
    return rounds == null
        ? new RunResult.StepSplit(grads.steps(), grads.sparkSeconds(), grads.computeSeconds())
        : new RunResult.StepSplit(rounds.steps(), rounds.sparkSeconds(), rounds.computeSeconds());
  }

  /** New adapters: gated LoRA for L1RA, SVD-form for AdaLoRA, plain LoRA otherwise. */
  private AdapterSet newAdapters(AdapterLayout layout) {
    if (cfg.usesAdaLora()) {
      List<Adapter> list = new ArrayList<>();
      layout.specs().forEach(s -> list.add(AdaLoraAdapter.create(s, driver, cfg.run().seed())));
      return new AdapterSet(list, cfg.lora().dropout());
    }
    return AdapterSet.create(
        layout, driver, cfg.lora().init(), cfg.run().seed(), cfg.usesL1ra(), cfg.lora().dropout());
  }

  /** The rank controller of the method ({@link RankController#NONE} for fixed-rank LoRA). */
  private RankController controller(AdapterLayout layout) {
    if (cfg.usesL1ra()) {
      L1raSection l = cfg.l1ra();
      int warmup = l.afterWarmup() ? cfg.train().warmupSteps(totalSteps) : 0;
      return new L1raController(
          l.plannerSettings(cfg.train().lr()),
          l.interval(totalSteps),
          warmup,
          cfg.run().seed(),
          layout,
          l.rescaleAlpha(),
          List.of(ranks));
    }
    if (cfg.usesAdaLora()) {
      return new AdaLoraController(
          cfg.adalora().budget(layout, totalSteps),
          cfg.adalora().beta1(),
          cfg.adalora().beta2(),
          cfg.adalora().orthRegWeight(),
          driver,
          List.of(ranks));
    }
    return RankController.NONE;
  }

  private Trainer.Settings settings(RunPaths paths) {
    return new Trainer.Settings(
        totalSteps,
        cfg.train().globalBatch(),
        cfg.run().seed(),
        cfg.train().schedule(totalSteps)::lr,
        cfg.train().weightDecay(),
        cfg.train().maxGradNorm(),
        cfg.usesL1ra() ? cfg.l1ra().gateRule() : null,
        cfg.train().maxBadSteps(),
        cfg.train().logEvery(),
        cfg.train().evalEvery(),
        cfg.train().checkpointEvery(),
        paths.checkpoints(),
        cfg.train().keepCheckpoints());
  }

  private LossScaler scaler() {
    return cfg.model().precision() == Precision.FP16
        ? LossScaler.dynamic(cfg.train().lossScale())
        : LossScaler.disabled();
  }

  /** What an executor needs to build its trainer for this run. */
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

  @Override
  public void close() {
    StopSignals.REQUEST.disarm();
    if (metrics != null) {
      metrics.close();
    }
    if (adapters != null) {
      adapters.close();
    }
    if (eval != null) {
      eval.close();
    }
    if (grads != null) {
      grads.close();
    }
    if (rounds != null) {
      rounds.close();
    }
    optimizer.close();
    driver.close();
  }
}
