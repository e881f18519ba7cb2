package dev.l1ra.job.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.data.Sample;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.GradientStep;
import java.nio.file.Path;
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

  /** Forward/backward over this task's samples; returns the gradient sums as host arrays. */
  synchronized GradPartial gradients(
      StepInput in, List<Sample> samples, int microBatch, int padId, long seed, boolean recompute) {
    long t0 = System.nanoTime();
    try (NDManager m = model.manager().newSubManager();
        NDScope scope = new NDScope();
        AdapterSet adapters = in.adapters().build(m)) {
      GradientStep.Options o =
          new GradientStep.Options(in.normalizer(), in.lossScale(), seed, recompute);
      GradientStep.Share share = GradientStep.share(model, adapters, samples, microBatch, padId, o);
      double nll = share.nllSum().getFloat();
      List<TrainableParam> params = adapters.trainable();
      float[][] grads = new float[params.size()][];
      for (int i = 0; i < grads.length; i++) {
        grads[i] = params.get(i).array().getGradient().toFloatArray();
        Ops.zeroGrad(params.get(i).array());
      }
      return new GradPartial(
          grads, nll, share.learnedTokens(), share.inputTokens(), (System.nanoTime() - t0) / 1e9);
    }
  }

  /** NLL sum and learned tokens of samples under the given adapters (no autograd). */
  synchronized Evaluator.Result evaluate(
      StepInput in, List<Sample> samples, int microBatch, int padId) {
    try (NDManager m = model.manager().newSubManager();
        AdapterSet adapters = in.adapters() == null ? null : in.adapters().build(m)) {
      return Evaluator.score(model, adapters, samples, microBatch, padId);
    }
  }
}
