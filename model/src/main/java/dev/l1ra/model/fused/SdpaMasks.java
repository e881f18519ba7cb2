package dev.l1ra.model.fused;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.l1ra.model.llama.AttentionMask;

/**
 * The mask in the form a fused {@code scaled_dot_product_attention} call wants when it is not
 * purely causal ({@link AttentionMask#causalOnly()} decides that): the additive mask with fully
 * masked rows opened up.
 */
public final class SdpaMasks {
  private SdpaMasks() {}

  /**
   * The additive mask with every fully masked query row (a left-padding token sees no real key) set
   * to 0, so that row attends to all keys, as transformers' {@code _unmask_unattended} does before
   * SDPA. Such rows are padding whose outputs no loss reads; the plain kernel gives them uniform
   * weights instead, so only their outputs differ. A row left at the lowest finite value is a known
   * hazard: CUDA SDPA returned NaN for it (pytorch/pytorch#110213, the reason transformers opens
   * these rows), and torch 2.7.1's CPU flash kernel computes its forward like the plain kernel but
   * not its backward (measured here: dL/dq off by ~10 at O(1) values when that row's output gets a
   * gradient).
   *
   * @return [B, 1, T, T] in the additive mask's dtype, owned by its manager and the current scope
   */
  public static NDArray additiveWithoutEmptyRows(AttentionMask mask) {
    NDArray additive = mask.additive(); // [B,1,T,T]
    NDArray out;
    try (NDScope ignored = new NDScope()) {
      // [B,1,T,1]: 1 where the query sees at least one key, else 0
      NDArray sees = mask.allowed().toType(additive.getDataType(), false).max(new int[] {3}, true);
      out = additive.mul(sees);
      NDScope.unregister(out);
    }
    NDScope.register(out); // in the caller's scope, like any other op result
    return out;
  }
}
