package dev.l1ra.job.spark.transport;

import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.util.AccumulatorV2;

/**
 * Per-phase times of a Spark job's tasks as a Spark accumulator: for each phase the largest time
 * one task spent in it (the phase's share of the stage's critical path when tasks run in parallel)
 * and the sum over tasks. Register it once ({@code sc.sc().register(times, "transport")}), pass it
 * into task closures, {@link #reset()} between jobs. Times of retried tasks count once per attempt.
 */
public final class TransportTimes extends AccumulatorV2<double[], double[]> {
  private static final long serialVersionUID = 1L;

  /** What a task or the driver spends time on. */
  public enum Phase {
    /** A task reading and decoding the broadcast state. */
    BROADCAST_READ,
    /** A task's own work (the worker's compute; synthetic in the benchmark). */
    COMPUTE,
    /** A task encoding its result payload(s). */
    ENCODE,
    /** A reduce task summing payloads (after its shuffle read). */
    REDUCE_SUM,
    /** The driver placing or summing the collected payloads. */
    DRIVER_MERGE;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final int N = Phase.values().length;

  /** [0, N): maxima, [N, 2N): sums, in milliseconds. */
  private final double[] ms = new double[2 * N];

  /** Records {@code nanos} of a phase (call from a task or the driver). */
  public void record(Phase phase, long nanos) {
    add(new double[] {phase.ordinal(), nanos / 1e6});
  }

  /** Records the time since {@code startNanos} and returns now (for chained phases). */
  public long since(Phase phase, long startNanos) {
    long now = System.nanoTime();
    record(phase, now - startNanos);
    return now;
  }

  /** The largest time one task spent in the phase, ms. */
  public double maxMs(Phase phase) {
    return ms[phase.ordinal()];
  }

  /** All tasks' time in the phase, ms. */
  public double sumMs(Phase phase) {
    return ms[N + phase.ordinal()];
  }

  @Override
  public boolean isZero() {
    return Arrays.stream(ms).allMatch(v -> v == 0);
  }

  @Override
  public TransportTimes copy() {
    TransportTimes t = new TransportTimes();
    System.arraycopy(ms, 0, t.ms, 0, ms.length);
    return t;
  }

  @Override
  public void reset() {
    Arrays.fill(ms, 0);
  }

  /** {phase ordinal, milliseconds}. */
  @Override
  public void add(double[] sample) {
    int p = (int) sample[0];
    ms[p] = Math.max(ms[p], sample[1]);
    ms[N + p] += sample[1];
  }

  @Override
  public void merge(AccumulatorV2<double[], double[]> other) {
    double[] o = other.value();
    for (int p = 0; p < N; p++) {
      ms[p] = Math.max(ms[p], o[p]);
      ms[N + p] += o[N + p];
    }
  }

  /** Maxima then sums, one per phase each (a copy). */
  @Override
  public double[] value() {
    return ms.clone();
  }
}
