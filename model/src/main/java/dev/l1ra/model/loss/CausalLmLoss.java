package dev.l1ra.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.engine.Ops;

/**
 * Next-token cross-entropy as transformers' {@code ForCausalLMLoss}: labels are aligned with the
 * inputs and shifted left by one inside the loss; -100 marks positions that are not learned.
 */
public final class CausalLmLoss {
  public static final int IGNORE = -100;

  private CausalLmLoss() {}

  /**
   * Targets for each position: label[t+1], and IGNORE at the last position. Host-side, once per
   * batch.
   *
   * @param labels [B][T]
   * @return [B*T] shifted targets
   */
  public static long[] shift(long[][] labels) {
    int b = labels.length;
    int t = labels[0].length;
    long[] out = new long[b * t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        out[i * t + j] = j + 1 < t ? labels[i][j + 1] : IGNORE;
      }
    }
    return out;
  }

  /** Number of learned targets after the shift. */
  public static long countTargets(long[] shifted) {
    long n = 0;
    for (long v : shifted) {
      n += v == IGNORE ? 0 : 1;
    }
    return n;
  }

  /**
   * Device arrays for shifted targets: [B, T, 1] int64 indices (IGNORE → 0) and a [B, T] fp32 mask.
   */
  public static NDList targets(NDManager manager, long[] shifted, int batch, int seq) {
    long[] idx = new long[shifted.length];
    float[] mask = new float[shifted.length];
    for (int i = 0; i < shifted.length; i++) {
      boolean learned = shifted[i] != IGNORE;
      idx[i] = learned ? shifted[i] : 0;
      mask[i] = learned ? 1f : 0f;
    }
    return new NDList(
        manager.create(idx, new Shape(batch, seq, 1)), manager.create(mask, new Shape(batch, seq)));
  }

  /**
   * Sum of negative log-likelihoods over learned targets, in float32 (a scalar).
   *
   * @param logits [B, T, V] any float dtype
   * @param index [B, T, 1] int64 target ids
   * @param mask [B, T] fp32, 1 where the target is learned
   */
  public static NDArray nllSum(NDArray logits, NDArray index, NDArray mask) {
    NDArray logp = Ops.castWithGrad(logits, DataType.FLOAT32).logSoftmax(2);
    NDArray picked = logp.gather(index, 2).squeeze(2); // [B,T]
    return picked.mul(mask).sum().neg();
  }
}
