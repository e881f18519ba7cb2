package dev.l1ra.job.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.data.Sample;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadCodec;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.AdapterSnapshot;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.GradientStep;
import dev.l1ra.model.train.LossScaler;
import dev.l1ra.model.train.RoundSource;
import dev.l1ra.model.train.TrainOptimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer inside an executor JVM: the base model, loaded once per JVM (memory-mapped
 * safetensors) and reused by every task and step; one task computes at a time, since DJL allows one
 * GradientCollector per JVM. The device is the task's Spark-assigned GPU, else the spec's.
 */
final class Worker {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
  private static final Map<String, Worker> CACHE = new ConcurrentHashMap<>();

  private final LlamaModel model;

  private Worker(LlamaModel model) {
    this.model = model;
  }

  /** The cached worker for this spec on this task's device, loading the model on first use. */
  static Worker get(WorkerSpec spec) {
    Device device = taskDevice(spec.device());
    return CACHE.computeIfAbsent(spec.modelKey(device.toString()), k -> load(spec, device));
  }

  private static Worker load(WorkerSpec spec, Device device) {
    long t0 = System.nanoTime();
    EngineInfo.setThreads(spec.threads());
    LlamaModel m =
        LlamaModel.load(
            Path.of(spec.modelPath()),
            device,
            spec.precision(),
            AttentionKernels.create(spec.attention(), device));
    LOG.info(
        "executor loaded {} on {} ({}) in {} ms",
        spec.modelPath(),
        device,
        m.attention().name(),
        (System.nanoTime() - t0) / 1_000_000);
    return new Worker(m);
  }

  /** The GPU Spark assigned to this task (spark.task.resource.gpu.amount), else the preference. */
  static Device taskDevice(String preference) {
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      ResourceInformation gpu = tc.resources().get("gpu").getOrElse(() -> null);
      if (gpu != null && gpu.addresses().length > 0) {
        return Device.gpu(Integer.parseInt(gpu.addresses()[0]));
      }
    }
    return EngineInfo.device(preference);
  }

  /**
   * Forward/backward over this task's samples; returns the gradient sums (divided by the global
   * normaliser, times the loss scale) as payload chunks with the NLL sum and token counts.
   */
  synchronized List<Payload> gradients(
      StepInput in, List<Sample> samples, long seed, WorkerSpec spec) {
    try (NDManager m = model.manager().newSubManager();
        NDScope scope = new NDScope();
        AdapterSet adapters = in.adapters(m)) {
      GradientStep.Options o =
          new GradientStep.Options(in.normalizer(), in.lossScale(), seed, spec.recompute());
      GradientStep.Share share =
          GradientStep.share(model, adapters, samples, spec.microBatch(), spec.padId(), o);
      double nll = share.nllSum().getFloat();
      List<TrainableParam> params = adapters.trainable();
      List<float[]> grads = new ArrayList<>(params.size());
      for (TrainableParam p : params) {
        grads.add(p.array().getGradient().toFloatArray());
        Ops.zeroGrad(p.array());
      }
      return PayloadCodec.encodeChunks(
          grads, in.chunks(), in.result(), 1, nll, share.learnedTokens(), share.inputTokens());
    }
  }

  /**
   * A round of local steps: the adapters and AdamW state of the broadcast, then for each step of
   * the plan forward/backward over this task's samples (loss normalised by their own learned
   * tokens) and an optimizer step. Returns the final state (or its change) as payload chunks,
   * weighted by the learned tokens seen, with per-step scalars ({@link RoundInput#STEP_SCALARS}).
   *
   * @param steps this task's samples for each step of the round
   * @param seedSalt added to each step's seed (the partition's dropout stream)
   */
  synchronized List<Payload> round(
      RoundInput in, List<List<Sample>> steps, long seedSalt, WorkerSpec spec) {
    RoundSource.Plan plan = in.plan();
    List<float[]> start = PayloadCodec.decodeTensors(in.state());
    double[] scalars = new double[RoundInput.STEP_SCALARS * plan.steps()];
    long learnedAll = 0;
    List<float[]> values = start.subList(0, start.size() / 3);
    try (NDManager m = model.manager().newSubManager();
        AdapterSet adapters = new AdapterSnapshot(in.entries(), in.dropout(), values).build(m);
        TrainOptimizer opt = new TrainOptimizer(in.adam(), m)) {
      RoundState.restoreMoments(start, in.ages(), adapters, opt.adam());
      LossScaler scaler = plan.scaler();
      for (int h = 0; h < plan.steps(); h++) {
        long learned = learned(steps.get(h));
        learnedAll += learned;
        try (NDScope scope = new NDScope()) {
          GradientStep.Options o =
              new GradientStep.Options(
                  Math.max(1, learned),
                  scaler.scale(),
                  plan.seeds()[h] * 31 + seedSalt,
                  spec.recompute());
          GradientStep.Share share =
              GradientStep.share(model, adapters, steps.get(h), spec.microBatch(), spec.padId(), o);
          TrainOptimizer.Outcome out = opt.step(adapters, null, scaler.scale(), plan.hyper(h));
          TrainOptimizer.zeroGrad(adapters);
          scaler = scaler.next(!out.skipped());
          int k = RoundInput.STEP_SCALARS * h;
          scalars[k] = share.nllSum().getFloat();
          scalars[k + 1] = share.learnedTokens();
          scalars[k + 2] = share.inputTokens();
          scalars[k + 3] = out.gradNorm();
          scalars[k + 4] = out.skipped() ? 1 : 0;
        }
      }
      List<float[]> end = RoundState.flatten(adapters, opt.adam());
      return in.result() == PayloadDtype.FP32
          ? PayloadCodec.encodeChunks(end, in.chunks(), in.result(), learnedAll, scalars)
          : PayloadCodec.encodeDeltaChunks(
              end, in.state(), in.chunks(), in.result(), learnedAll, scalars);
    }
  }

  private static long learned(List<Sample> samples) {
    long n = 0;
    for (Sample s : samples) {
      n += s.learnedTokens();
    }
    return n;
  }

  /** NLL sum and learned tokens of samples under the given adapters (no autograd). */
  synchronized Evaluator.Result evaluate(
      StepInput in, List<Sample> samples, int microBatch, int padId) {
    try (NDManager m = model.manager().newSubManager();
        AdapterSet adapters = in.adapters(m)) {
      return Evaluator.score(model, adapters, samples, microBatch, padId);
    }
  }
}
