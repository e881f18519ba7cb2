package dev.l1ra.model.llama;

import static ai.djl.nn.core.Linear.linear;

import ai.djl.ndarray.NDArray;

/**
 * A frozen linear projection in Hugging Face layout: weight [out, in], optional bias [out].
 *
 * @param bias null when the projection has none
 */
public record Linear(NDArray weight, NDArray bias) {

  /** y = x·Wᵀ + b, one fused GEMM; x [..., in] → [..., out]. */
  public NDArray apply(NDArray x) {
    return linear(x, weight, bias).singletonOrThrow();
  }

  /** x·Wᵀ for any weight [out, in] (no bias); x [..., in] → [..., out]. */
  public static NDArray project(NDArray x, NDArray weight) {
    return linear(x, weight).singletonOrThrow();
  }

  public long outFeatures() {
    return weight.getShape().get(0);
  }

  public long inFeatures() {
    return weight.getShape().get(1);
  }
}
