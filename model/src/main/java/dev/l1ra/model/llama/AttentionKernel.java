package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import dev.l1ra.model.engine.Ops;

/**
 * Scaled dot-product attention with grouped-query heads, and the MLP's SwiGLU activation: the
 * decoder's ops that have a plain-op reference and a fused form. Implementations are
 * interchangeable: they must agree to fp32 rounding.
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

  /** The SwiGLU activation silu(gate)·up, [..., intermediate] each; fused kernels may fuse it. */
  default NDArray swiglu(NDArray gate, NDArray up) {
    return Ops.silu(gate).mul(up);
  }

  /** Whole decoder layers in one engine call each, or null when this kernel has none. */
  default LayerKernel layers() {
    return null;
  }

  /** Short name for logs and reports. */
  String name();
}
