package dev.l1ra.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.data.Sample;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.engine.Seeds;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.loss.CausalLmLoss;
import java.util.List;
import java.util.function.Supplier;

/**
 * Forward and backward over a worker's micro-batches, accumulating adapter gradients in place. Each
 * micro-batch's loss is its NLL sum times {@code lossScale / normalizer}, where the normalizer is
 * the learned-token count of the whole global batch, so k micro-batches give exactly the gradient
 * of one batch k times the size and workers' gradients simply add up.
 *
 * <p>A function of (weights, adapters, micro-batches, normalizer, seed): LoRA dropout masks come
 * from the engine generator re-seeded per (micro-batch, layer), so a retried, resumed or recomputed
 * layer draws the same masks. No host read-back per micro-batch: the NLL sum accumulates on the
 * device.
 *
 * <p>With {@code recompute} (layer-wise activation recomputation), the forward keeps only each
 * layer's input; then, last layer first, the layer is recomputed with recording on and the scalar
 * sum(output · upstream gradient) is backpropagated — its gradients are exactly the vector-Jacobian
 * product — and the layer input's gradient becomes the next upstream gradient.
 */
public final class GradientStep {
  private GradientStep() {}

  /**
   * How to run one worker's share of a step.
   *
   * @param normalizer learned tokens of the global batch (over all workers)
   * @param lossScale multiplies the loss before backward (fp16 loss scaling; 1 otherwise)
   * @param seed the step's seed on this worker (dropout masks)
   * @param recompute layer-wise activation recomputation
   */
  public record Options(double normalizer, double lossScale, long seed, boolean recompute) {}

  /** What one worker's share of a step produced (the gradients are in the adapters' .grad). */
  public record Share(NDArray nllSum, long learnedTokens, long inputTokens) {}

  /**
   * One worker's share of a step: its samples split into micro-batches in order, forward and
   * backward over each, gradients accumulated in the adapters' parameters.
   *
   * @param samples this worker's samples of the global batch (may be empty)
   * @param o normalizer (learned tokens of the whole global batch), loss scale, seed, recompute
   * @return the NLL sum (a float32 scalar on the device, in the caller's NDScope) and token counts
   */
  public static Share share(
      LlamaModel model,
      AdapterSet adapters,
      List<Sample> samples,
      int microBatch,
      int padId,
      Options o) {
    List<HostBatch> micro = HostBatch.split(samples, microBatch, padId);
    long learned = micro.stream().mapToLong(HostBatch::learned).sum();
    long input = samples.stream().mapToLong(Sample::length).sum();
    return new Share(accumulate(model, adapters, micro, o), learned, input);
  }

  /**
   * Runs all micro-batches.
   *
   * @return the unscaled NLL sum over all micro-batches: a float32 scalar on the model's device,
   *     owned by the model's manager and registered in the caller's NDScope (close it with the
   *     step)
   */
  public static NDArray accumulate(
      LlamaModel model, AdapterSet adapters, List<HostBatch> micro, Options o) {
    NDManager m = model.manager();
    NDArray total = m.zeros(new Shape());
    for (int i = 0; i < micro.size(); i++) {
      long seed = Seeds.mix(o.seed(), i);
      try (NDScope s = new NDScope()) {
        HostBatch b = micro.get(i);
        NDList t = b.targets(m);
        Batch batch = b.toDevice(m);
        double scale = o.lossScale() / o.normalizer();
        NDArray nll =
            o.recompute()
                ? recomputed(model, adapters, batch, t, scale, seed)
                : backward(
                    () ->
                        CausalLmLoss.nllSum(
                            model.logits(batch, adapters, true, seed), t.get(0), t.get(1)),
                    scale);
        total.addi(nll);
      }
    }
    return total;
  }

  /**
   * Computes the NLL sum with recording on (its intermediates freed as soon as it is done) and
   * backpropagates it times {@code scale}; returns the detached sum.
   */
  private static NDArray backward(Supplier<NDArray> nllSum, double scale) {
    try (GradientCollector gc = engine().newGradientCollector()) {
      NDArray nll = Ops.scoped(nllSum);
      gc.backward(Ops.mulOnce(nll, scale));
      return nll.stopGradient();
    }
  }

  /** Layer-wise recomputation: see the class comment. */
  private static NDArray recomputed(
      LlamaModel model, AdapterSet adapters, Batch batch, NDList t, double scale, long seed) {
    LlamaModel.LayerContext ctx = model.context(batch, adapters, true, seed);
    int layers = model.config().numLayers();
    NDArray[] inputs = new NDArray[layers];
    NDArray h = model.embed(batch);
    for (int i = 0; i < layers; i++) { // recording off: no graph; only layer inputs are kept
      inputs[i] = h;
      int layer = i;
      NDArray in = h;
      h = Ops.scoped(() -> model.layer(layer, in, ctx));
    }
    NDArray last = h;
    last.setRequiresGradient(true);
    NDArray nll =
        backward(
            () -> CausalLmLoss.nllSum(model.lmHead(model.finalNorm(last)), t.get(0), t.get(1)),
            scale);
    NDArray upstream = last.getGradient();
    for (int i = layers - 1; i > 0; i--) {
      int layer = i;
      NDArray g = upstream;
      upstream = Ops.scoped(() -> backwardLayer(model, ctx, layer, inputs[layer], g));
    }
    try (NDScope s = new NDScope()) {
      backwardLayer(model, ctx, 0, inputs[0], upstream); // the embedding needs no gradient
    }
    return nll;
  }

  /**
   * Recomputes one layer with recording on and backpropagates sum(output · upstream); returns the
   * gradient of the layer input (null for the first layer, whose input is the embedding).
   */
  private static NDArray backwardLayer(
      LlamaModel model, LlamaModel.LayerContext ctx, int i, NDArray x, NDArray upstream) {
    try (GradientCollector gc = engine().newGradientCollector()) {
      if (i > 0) {
        x.setRequiresGradient(true);
      }
      NDArray y = model.layer(i, x, ctx);
      gc.backward(y.mul(upstream).sum());
    }
    return i > 0 ? x.getGradient() : null;
  }

  private static Engine engine() {
    return EngineInfo.engine();
  }
}
