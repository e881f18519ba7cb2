package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;

/**
 * Scaled dot-product attention with grouped-query heads. Implementations are interchangeable: the
 * plain-op reference and fused kernels must agree to fp32 rounding.
 */
public interface AttentionKernel {

  /**
   * @param q [B, H, T, D] queries (RoPE applied)
   * @param k [B, KV, T, D] keys (RoPE applied), H a multiple of KV
   * @param v [B, KV, T, D] values
   * @param mask which keys each query may see
   * @return [B, H, T, D]
   */
  NDArray attend(NDArray q, NDArray k, NDArray v, AttentionMask mask);

  /** Short name for logs and reports. */
  String name();
}
