package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;

/**
 * A frozen linear projection in Hugging Face layout: weight [out, in], optional bias [out].
 *
 * @param bias null when the projection has none
 */
public record Linear(NDArray weight, NDArray bias) {

  /** y = x·Wᵀ + b, one fused GEMM; x [..., in] → [..., out]. */
  public NDArray apply(NDArray x) {
    return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
  }

  public long outFeatures() {
    return weight.getShape().get(0);
  }

  public long inFeatures() {
    return weight.getShape().get(1);
  }
}
