package dev.l1ra.job.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job's compute is its busiest executor's summed task seconds. */
class ExecutorSecondsTest {

  private static ExecutorSeconds of(Map<String, Double> byExecutor) {
    ExecutorSeconds a = new ExecutorSeconds();
    byExecutor.forEach((k, v) -> a.value().put(k, v));
    return a;
  }

  @Test
  void tasksOnOneExecutorAddUpAndExecutorsRunInParallel() {
    ExecutorSeconds driver = new ExecutorSeconds();
    driver.merge(of(Map.of("driver", 1.5)));
    driver.merge(of(Map.of("driver", 2.0)));
    assertEquals(3.5, driver.criticalPath(), 1e-12, "local[N]: one after the other");
    ExecutorSeconds cluster = new ExecutorSeconds();
    cluster.merge(of(Map.of("1", 1.5)));
    cluster.merge(of(Map.of("2", 2.0)));
    assertEquals(2.0, cluster.criticalPath(), 1e-12, "two executors: the slower one");
    cluster.reset();
    assertTrue(cluster.isZero());
    assertEquals(0, cluster.criticalPath());
  }

  @Test
  void aTaskOutsideSparkCountsAsTheDriver() {
    ExecutorSeconds a = new ExecutorSeconds();
    a.addHere(0.25);
    a.addHere(0.5);
    assertEquals(0.75, a.value().get("driver"), 1e-12);
  }
}
