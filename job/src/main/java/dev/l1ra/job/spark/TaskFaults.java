package dev.l1ra.job.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test seams for Spark's fault tolerance; nothing in a real run arms them.
 *
 * <ul>
 *   <li>{@link #failFirstAttemptAt}: the first attempt of partition 0's training task fails at one
 *       step, so a test can check that the retried task reproduces it exactly. It lives in the
 *       executor JVM, so it reaches tasks only with in-process masters ({@code local[N]}).
 *   <li>Spark settings {@value #HALT_AT} (a step) and {@value #HALT_MARKER} (a file): partition 0's
 *       training task at that step halts its executor JVM, as a lost node would, once (the marker
 *       file records it). For masters with executor processes ({@code local-cluster}, clusters).
 * </ul>
 */
public final class TaskFaults {
  private static final Logger LOG = LoggerFactory.getLogger(TaskFaults.class);

  /** Spark setting: the 0-based step whose task halts its executor. */
  public static final String HALT_AT = "spark.l1ra.test.haltExecutorAtStep";

  /** Spark setting: the file that records that an executor was halted. */
  public static final String HALT_MARKER = "spark.l1ra.test.haltMarker";

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
    maybeHalt(step, partition);
  }

  private static void maybeHalt(int step, int partition) {
    SparkEnv env = SparkEnv.get();
    if (env == null || partition != 0 || env.conf().getInt(HALT_AT, -1) != step) {
      return;
    }
    Path marker = Path.of(env.conf().get(HALT_MARKER));
    try {
      Files.createFile(marker);
    } catch (IOException e) {
      return; // halted once already (or the marker cannot be written: stay up)
    }
    LOG.warn("halting executor {} at step {} (test seam {})", env.executorId(), step, HALT_AT);
    Runtime.getRuntime().halt(137);
  }
}
