package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Which key positions each query may attend to, built once per batch on the device: causal,
 * restricted to non-padding keys, to the query's own packed sample (segment), and to a sliding
 * window when the model has one.
 *
 * @param additive [B, 1, T, T] in the compute dtype: 0 where allowed, the dtype's lowest finite
 *     value where masked (as transformers does, so fully masked rows give no NaN)
 * @param allowed [B, 1, T, T] boolean, for kernels that take a boolean mask
 * @param causalOnly true when the mask is the plain causal pattern (no padding, one sample per row,
 *     no window shorter than the sequence), so a fused kernel may skip the mask tensor
 */
public record AttentionMask(NDArray additive, NDArray allowed, boolean causalOnly) {

  /**
   * Builds the mask.
   *
   * @param keep [B, T] int: 1 for real tokens, 0 for padding (or null: all real)
   * @param segments [B, T] int: packed-sample index of each token (or null: one sample per row)
   * @param slidingWindow window in tokens, 0 for none
   */
  public static AttentionMask build(
      NDManager manager,
      int batch,
      int seq,
      NDArray keep,
      NDArray segments,
      int slidingWindow,
      DataType dtype) {
    NDArray q = manager.arange(seq).reshape(seq, 1); // query index
    NDArray k = manager.arange(seq).reshape(1, seq); // key index
    NDArray allowed = k.lte(q); // causal [T,T]
    if (slidingWindow > 0) {
      allowed = allowed.logicalAnd(k.gt(q.sub(slidingWindow)));
    }
    allowed = allowed.reshape(1, 1, seq, seq).broadcast(new Shape(batch, 1, seq, seq));
    if (keep != null) {
      allowed = allowed.logicalAnd(keep.reshape(batch, 1, 1, seq).eq(1));
    }
    if (segments != null) {
      NDArray same = segments.reshape(batch, 1, seq, 1).eq(segments.reshape(batch, 1, 1, seq));
      allowed = allowed.logicalAnd(same);
    }
    float lowest = dtype == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
    // allowed → 0, masked → lowest: (allowed - 1) · |lowest|
    NDArray additive = allowed.toType(dtype, false).sub(1).mul(-lowest);
    boolean causal =
        keep == null && segments == null && (slidingWindow <= 0 || slidingWindow >= seq);
    return new AttentionMask(additive, allowed, causal);
  }
}
