package dev.l1ra.model.train;

/** Receives what the training loop does (metrics files, progress, plots). All methods optional. */
public interface TrainListener {

  /** One optimizer step (1-based {@code step}). */
  /**
   * @param extra the rank controller's per-step statistics (L1RA: mean gate, gates below the prune
   *     threshold), or null
   */
  record StepRecord(
      int step,
      int totalSteps,
      double loss,
      double lr,
      double gradNorm,
      boolean skipped,
      long inputTokens,
      long cumulativeTokens,
      double stepSeconds,
      double elapsedSeconds,
      double lossScale,
      double[] extra) {
    public double tokensPerSecond() {
      return stepSeconds > 0 ? inputTokens / stepSeconds : 0;
    }
  }

  default void onStart(int startStep, int totalSteps) {}

  default void onStep(StepRecord r) {}

  default void onEval(int step, Evaluator.Result r) {}

  /**
   * Called just before the checkpoint that resumes at {@code step} is written: whatever a listener
   * buffers for steps ≤ {@code step} must be durable now, because a run resumed from that
   * checkpoint keeps those rows and never produces them again (the process may be killed at any
   * moment after the checkpoint exists).
   */
  default void beforeCheckpoint(int step) {}

  default void onFinish(Trainer.Summary s) {}

  /**
   * Asked between steps: a reason to stop now (e.g. {@code SIGTERM}), or null to go on. The trainer
   * then writes a checkpoint and throws {@link StoppedException}.
   */
  default String stopRequested() {
    return null;
  }
}
