package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Runs a round of several optimizer steps away from the driver's arrays (local steps on workers,
 * then their states averaged) and leaves the result in the driver's adapters and optimizer state:
 * the counterpart of {@link GradientSource} for rounds of local steps. A round is a pure function
 * of (state, shards, first step), so a retried task or a resumed run repeats it exactly.
 */
public interface RoundSource extends AutoCloseable {

  /**
   * One step of a round, summed over workers.
   *
   * @param gradNorm the workers' gradient norms (before clipping), averaged
   * @param skippedWorkers workers whose update was skipped (non-finite gradient)
   */
  record StepOutcome(
      double nllSum, long learnedTokens, long inputTokens, double gradNorm, int skippedWorkers) {
    public double loss() {
      return nllSum / Math.max(1, learnedTokens);
    }
  }

  /**
   * What a round's steps need besides the state: per-step learning rates and seeds (functions of
   * the global step), the other hyper-parameters and the loss scale it starts with.
   *
   * @param lrs A/B learning rate of each step of the round
   * @param seeds dropout seed of each step
   * @param gates L1RA's gate rule, or null
   */
  record Plan(
      int firstStep,
      double[] lrs,
      long[] seeds,
      double weightDecay,
      double maxGradNorm,
      GateRule gates,
      LossScaler scaler)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    public int steps() {
      return lrs.length;
    }

    /** The optimizer's hyper-parameters at step {@code h} of the round. */
    public TrainOptimizer.Hyper hyper(int h) {
      return new TrainOptimizer.Hyper(lrs[h], weightDecay, maxGradNorm, gates);
    }
  }

  /**
   * The exclusive end of the round that starts at {@code step}: a function of the step alone (so a
   * resumed run cuts the same rounds), never past {@code totalSteps}.
   */
  int roundEnd(int step, int totalSteps);

  /**
   * Runs the round on the workers and writes the averaged state into {@code adapters} and {@code
   * adam} (same shapes: reallocation happens between rounds).
   *
   * @return one outcome per step of the plan
   */
  List<StepOutcome> run(Plan plan, AdapterSet adapters, AdamW adam);

  /** The rank controller moved ranks between rounds: state tied to the old ranks is dropped. */
  default void ranksChanged() {}

  /** Number of training samples (the data order's size). */
  int size();

  /** State of the source itself that a checkpoint keeps (the outer optimizer's momentum). */
  default Map<String, NDArray> tensors() {
    return Map.of();
  }

  /** Restores {@link #tensors()}. */
  default void restoreTensors(Map<String, NDArray> tensors) {}

  @Override
  default void close() {}
}
