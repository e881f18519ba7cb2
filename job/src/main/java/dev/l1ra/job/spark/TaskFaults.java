package dev.l1ra.job.spark;

import org.apache.spark.TaskContext;

/**
 * A test seam for Spark's task retry: while armed, the first attempt of partition 0's training task
 * fails at one step, so a test can check that the retried task reproduces the step exactly. It
 * lives in the executor JVM, so it reaches tasks only with in-process masters ({@code local[N]});
 * nothing in a real run arms it.
 */
public final class TaskFaults {
  private static volatile int failAtStep = -1;

  private TaskFaults() {}

  /** Fails the first attempt of partition 0 at 0-based {@code step} (−1: disarm). */
  public static void failFirstAttemptAt(int step) {
    failAtStep = step;
  }

  static void maybeFail(int step, int partition) {
    TaskContext tc = TaskContext.get();
    if (failAtStep == step && partition == 0 && tc != null && tc.attemptNumber() == 0) {
      throw new IllegalStateException("injected task failure at step " + step + " (test seam)");
    }
  }
}
