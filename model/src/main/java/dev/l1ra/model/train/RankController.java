package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import dev.l1ra.model.adapter.AdapterSet;
import java.util.List;
import java.util.Map;

/**
 * Changes ranks during training (L1RA, AdaLoRA). Called after each optimizer step; it may resize
 * adapters and the optimizer state in place. Its own state goes into the checkpoint. Fixed-rank
 * LoRA uses {@link #NONE}, which does nothing.
 */
public interface RankController {

  /** The controller of fixed-rank methods: no hooks, no statistics, no state. */
  RankController NONE =
      new RankController() {
        @Override
        public void afterStep(
            int step, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix) {}

        @Override
        public Map<String, Object> state() {
          return Map.of();
        }

        @Override
        public void restore(Map<String, Object> state) {}
      };

  /**
   * @param step the 1-based step just completed
   * @param lrMatrix the A/B learning rate of that step
   */
  void afterStep(int step, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix);

  /**
   * After 0-based steps [from, to) ran as one round (one step in sync mode): by default {@link
   * #afterStep} for each of them, all seeing the round's final state.
   *
   * @param lrMatrix the A/B learning rate of the round's last step
   */
  default void afterRound(
      int from, int to, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix) {
    for (int step = from + 1; step <= to; step++) {
      afterStep(step, totalSteps, adapters, adam, lrMatrix);
    }
  }

  /**
   * Before the optimizer update: may add data-independent gradient terms (AdaLoRA's orthogonality
   * regulariser) to {@code grads}, which are scaled by {@code lossScale}.
   */
  default void beforeUpdate(AdapterSet adapters, Map<String, NDArray> grads, double lossScale) {}

  /**
   * After the optimizer update, with the step's gradients still available: {@code gradCoef} turns
   * them into the clipped, unscaled gradients the optimizer used.
   */
  default void observe(AdapterSet adapters, Map<String, NDArray> grads, double gradCoef) {}

  /**
   * Whether {@link #beforeUpdate} and {@link #observe} read the gradients (otherwise they may be
   * given null and the step never makes host handles for them).
   */
  default boolean readsGradients() {
    return false;
  }

  /** Tensors of the controller's state for checkpoints (e.g. importance averages). */
  default Map<String, NDArray> tensors() {
    return Map.of();
  }

  /** Restores {@link #tensors()}. */
  default void restoreTensors(Map<String, NDArray> tensors) {}

  /** Names of the {@link #stepStats} values (metrics.csv columns). */
  default List<String> statNames() {
    return List.of();
  }

  /**
   * Per-step statistics logged beside the loss (L1RA: mean gate and gates below the prune
   * threshold), or null.
   */
  default double[] stepStats(AdapterSet adapters) {
    return null;
  }

  /** Allocation events so far. */
  default int events() {
    return 0;
  }

  /** Ranks moved between adapters so far (L1RA's reassignment). */
  default int ranksMoved() {
    return 0;
  }

  /** JSON-compatible state for checkpoints. */
  Map<String, Object> state();

  /** Restores {@link #state()}. */
  void restore(Map<String, Object> state);
}
