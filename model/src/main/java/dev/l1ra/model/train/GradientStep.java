package dev.l1ra.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.loss.CausalLmLoss;
import java.util.List;

/**
 * Forward and backward over a worker's micro-batches, accumulating adapter gradients in place. Each
 * micro-batch's loss is its NLL sum times {@code lossScale / normalizer}, where the normalizer is
 * the learned-token count of the whole global batch, so k micro-batches give exactly the gradient
 * of one batch k times the size and workers' gradients simply add up.
 *
 * <p>A function of (weights, adapters, micro-batches, normalizer, seed): dropout masks come from
 * the engine generator re-seeded per micro-batch, so a retried or resumed step draws the same
 * masks. No host read-back per micro-batch: the NLL sum accumulates on the device.
 */
public final class GradientStep {
  private GradientStep() {}

  /**
   * Runs all micro-batches.
   *
   * @param scope manager for the returned scalar (the caller's step scope)
   * @param normalizer learned tokens of the global batch (over all workers)
   * @param lossScale multiplies the loss before backward (fp16 loss scaling; 1 otherwise)
   * @param dropoutSeed seed of this step on this worker; micro-batch i uses a mix of it and i
   * @param extraLoss optional per-micro-batch regulariser added to the loss (AdaLoRA's
   *     orthogonality term), given the number of micro-batches; null for none
   * @return the unscaled NLL sum over all micro-batches, a float32 scalar on the device
   */
  public static NDArray accumulate(
      NDManager scope,
      LlamaModel model,
      AdapterSet adapters,
      List<HostBatch> micro,
      double normalizer,
      double lossScale,
      long dropoutSeed,
      Regularizer extraLoss) {
    NDArray total = scope.zeros(new ai.djl.ndarray.types.Shape());
    Engine engine = Engine.getEngine("PyTorch");
    boolean training = true;
    for (int i = 0; i < micro.size(); i++) {
      HostBatch b = micro.get(i);
      engine.setRandomSeed(mixSeed(dropoutSeed, i));
      try (NDScope s = new NDScope();
          GradientCollector gc = engine.newGradientCollector()) {
        NDManager m = scope;
        NDList t = b.targets(m);
        NDArray logits = model.logits(b.toDevice(m), adapters, training);
        NDArray nll = CausalLmLoss.nllSum(logits, t.get(0), t.get(1));
        NDArray loss = nll.mul(lossScale / normalizer);
        if (extraLoss != null) {
          loss = loss.add(extraLoss.loss(adapters).mul(lossScale / micro.size()));
        }
        gc.backward(loss);
        total.addi(nll.stopGradient());
      }
    }
    return total;
  }

  /** A term added to the training loss, e.g. AdaLoRA's orthogonality regulariser. */
  public interface Regularizer {
    /** A scalar in the autograd graph of the adapter parameters. */
    NDArray loss(AdapterSet adapters);
  }

  /** A 31-bit engine seed from a step seed and a micro-batch index (SplitMix64 finaliser). */
  static int mixSeed(long seed, long i) {
    long z = seed + 0x9E3779B97F4A7C15L * (i + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (int) ((z ^ (z >>> 31)) & 0x7fffffff);
  }
}
