package dev.l1ra.model.train;

import java.nio.file.Path;

/**
 * Training stopped on request ({@link TrainListener#stopRequested}, e.g. a SIGTERM) at a step
 * boundary, after writing the checkpoint a resumed run continues from.
 */
public final class StoppedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String reason;
  private final transient Path checkpoint;

  StoppedException(String reason, int step, int totalSteps, Path checkpoint) {
    super(
        reason
            + ": stopped after step "
            + step
            + " of "
            + totalSteps
            + (checkpoint == null ? " (no checkpoint folder)" : "; checkpoint " + checkpoint));
    this.reason = reason;
    this.checkpoint = checkpoint;
  }

  /** What asked for the stop, e.g. SIGTERM. */
  public String reason() {
    return reason;
  }

  /** The checkpoint written at the stop (null when the run keeps none). */
  public Path checkpoint() {
    return checkpoint;
  }
}
