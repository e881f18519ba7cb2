package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import dev.l1ra.model.adapter.AdapterSet;
import java.util.Map;

/**
 * Computes the gradient of one global batch for the driver's adapters: in this JVM ({@link
 * LocalGradients}) or on Spark executors (the job module).
 */
public interface GradientSource extends AutoCloseable {

  /**
   * What one global batch produced.
   *
   * @param grads gradient per parameter name, summed over workers, times the loss scale; arrays
   *     belong to the caller's step scope; null when they are the parameters' own .grad
   * @param nllSum summed next-token NLL over learned tokens (unscaled)
   * @param learnedTokens learned targets in the batch (the loss normaliser)
   * @param inputTokens non-padding input tokens processed
   * @param inParameters the gradients are the parameters' own accumulated .grad (to be zeroed after
   *     the step), not arrays made for this step
   */
  record StepGradients(
      Map<String, NDArray> grads,
      double nllSum,
      long learnedTokens,
      long inputTokens,
      boolean inParameters) {
    public double loss() {
      return nllSum / Math.max(1, learnedTokens);
    }
  }

  /**
   * Runs forward and backward for the samples of a step.
   *
   * @param sampleIndices indices of the global batch's samples in the training set
   * @param lossScale loss multiplier for fp16 (1 in fp32)
   * @param seed the step's seed (dropout masks)
   */
  StepGradients compute(
      int step, int[] sampleIndices, AdapterSet adapters, double lossScale, long seed);

  /** Learned targets of one training sample (for the loss normaliser). */
  int learnedTokens(int sampleIndex);

  /** Number of training samples. */
  int size();

  @Override
  default void close() {}
}
