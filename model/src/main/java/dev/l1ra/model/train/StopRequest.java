package dev.l1ra.model.train;

/**
 * A request to stop training at the next step boundary, with a checkpoint, e.g. from a signal
 * handler: the trainer asks its listeners between steps ({@link TrainListener#stopRequested}).
 * Accepted only while a training loop runs (between its start and finish), so the caller knows
 * whether anyone will act on it.
 */
public final class StopRequest implements TrainListener {
  private volatile boolean running;
  private volatile String reason;

  /**
   * Asks the running loop to stop.
   *
   * @param why what asks, e.g. SIGTERM (in the loop's exception and the resume message)
   * @return false when no loop runs or a stop was already asked for (nobody acts on this one)
   */
  public synchronized boolean request(String why) {
    if (!running || reason != null) {
      return false;
    }
    reason = why;
    return true;
  }

  /** Whether a stop was asked for. */
  public String reason() {
    return reason;
  }

  @Override
  public void onStart(int startStep, int totalSteps) {
    running = true;
  }

  @Override
  public void onFinish(Trainer.Summary s) {
    running = false;
  }

  /** No loop will look any more (the run ended, also by an exception). */
  public void disarm() {
    running = false;
  }

  @Override
  public String stopRequested() {
    return reason;
  }
}
