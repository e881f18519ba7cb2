package dev.l1ra.model.train;

import dev.l1ra.model.adapter.AdapterSet;
import java.util.Map;

/**
 * Changes ranks during training (L1RA, AdaLoRA). Called after each optimizer step; it may resize
 * adapters and the optimizer state in place. Its own state goes into the checkpoint.
 */
public interface RankController {

  /**
   * @param step the 1-based step just completed
   * @param lrMatrix the A/B learning rate of that step
   */
  void afterStep(int step, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix);

  /**
   * Per-step statistics logged beside the loss (L1RA: mean gate and gates below the prune
   * threshold), or null.
   */
  default double[] stepStats(AdapterSet adapters) {
    return null;
  }

  /** JSON-compatible state for checkpoints. */
  Map<String, Object> state();

  /** Restores {@link #state()}. */
  void restore(Map<String, Object> state);
}
