package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.Map;

/**
 * How the job runs on Spark.
 *
 * @param master Spark master: local[N] for {@code --local} runs; yarn, spark://..., k8s://... for
 *     spark-submit
 * @param partitions data-parallel workers (one training task per executor JVM/GPU)
 * @param mode sync: one Spark job per optimizer step (exact data parallelism); the only mode so far
 * @param deployMode client or cluster (spark-submit)
 * @param executors executors to request (defaults to partitions)
 * @param executorGpus GPUs per executor (0: CPU executors); one task per executor either way
 * @param gpuDiscoveryScript the script Spark runs on each executor to find its GPUs
 * @param executorMemory e.g. 64g (spark-submit); null: Spark's default
 * @param conf extra Spark settings passed to the session and to spark-submit
 */
public record SparkSection(
    String master,
    int partitions,
    SparkMode mode,
    DeployMode deployMode,
    int executors,
    int executorGpus,
    String gpuDiscoveryScript,
    String executorMemory,
    Map<String, String> conf) {
  public SparkSection {
    conf = Map.copyOf(conf);
    ConfigException.check(partitions >= 1, "spark.partitions", partitions, "must be >= 1");
    ConfigException.check(
        mode == SparkMode.SYNC,
        "spark.mode",
        mode,
        "only sync is implemented (one Spark job per optimizer step); local-sgd is not available yet");
    ConfigException.check(executors >= 1, "spark.executors", executors, "must be >= 1");
    ConfigException.check(executorGpus >= 0, "spark.executor_gpus", executorGpus, "must be >= 0");
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      String master,
      Integer partitions,
      SparkMode mode,
      DeployMode deployMode,
      Integer executors,
      Integer executorGpus,
      String gpuDiscoveryScript,
      String executorMemory,
      Map<String, String> conf) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static SparkSection of(Keys k) {
    int partitions = requireNonNullElse(k.partitions(), 1);
    return new SparkSection(
        requireNonNullElse(k.master(), "local[2]"),
        partitions,
        requireNonNullElse(k.mode(), SparkMode.SYNC),
        requireNonNullElse(k.deployMode(), DeployMode.CLIENT),
        requireNonNullElse(k.executors(), partitions),
        requireNonNullElse(k.executorGpus(), 0),
        requireNonNullElse(
            k.gpuDiscoveryScript(), "/opt/spark/examples/src/main/scripts/getGpusResources.sh"),
        k.executorMemory(),
        requireNonNullElse(k.conf(), Map.of()));
  }
}
