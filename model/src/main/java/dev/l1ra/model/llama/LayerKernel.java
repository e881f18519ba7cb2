package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;

/**
 * A whole decoder layer in few engine calls, where an attention kernel offers one: the same
 * function as {@link LlamaModel#layer}'s op-by-op path (bit for bit on the CPU), with autograd.
 */
public interface LayerKernel {

  /**
   * One decoder layer: h [B, T, hidden] → [B, T, hidden], or null when this kernel does not run
   * this layer's configuration (the caller then runs the op-by-op path).
   */
  NDArray layer(LlamaModel model, int i, NDArray h, LlamaModel.LayerContext ctx);
}
