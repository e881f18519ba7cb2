package dev.l1ra.job.spark;

import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.AccumulatorV2;

/**
 * Seconds of training compute per executor within one Spark job. An executor runs one training task
 * at a time (one model per JVM), so its tasks' seconds add up, and the job's compute is the busiest
 * executor's sum: in {@code local[N]} (one executor) tasks that ran one after the other count as
 * compute, not as Spark overhead; on a cluster with one task per executor it is the slowest task.
 */
final class ExecutorSeconds extends AccumulatorV2<Double, Map<String, Double>> {
  private static final long serialVersionUID = 1L;

  private final HashMap<String, Double> byExecutor = new HashMap<>();

  /** Called in a task: adds seconds to this executor's sum. */
  void addHere(double seconds) {
    SparkEnv env = SparkEnv.get();
    byExecutor.merge(env == null ? "driver" : env.executorId(), seconds, Double::sum);
  }

  /** The busiest executor's seconds. */
  double criticalPath() {
    return byExecutor.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }

  @Override
  public boolean isZero() {
    return byExecutor.isEmpty();
  }

  @Override
  public AccumulatorV2<Double, Map<String, Double>> copy() {
    ExecutorSeconds c = new ExecutorSeconds();
    c.byExecutor.putAll(byExecutor);
    return c;
  }

  @Override
  public void reset() {
    byExecutor.clear();
  }

  @Override
  public void add(Double seconds) {
    addHere(seconds);
  }

  @Override
  public void merge(AccumulatorV2<Double, Map<String, Double>> other) {
    other.value().forEach((k, v) -> byExecutor.merge(k, v, Double::sum));
  }

  @Override
  public Map<String, Double> value() {
    return byExecutor;
  }
}
