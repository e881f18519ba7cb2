package dev.l1ra.core.config;

import java.util.List;
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
 * @param executorMemory e.g. 64g (spark-submit)
 * @param conf extra Spark settings passed to the session and to spark-submit
 */
public record SparkSection(
    String master,
    Integer partitions,
    String mode,
    String deployMode,
    Integer executors,
    Integer executorGpus,
    String gpuDiscoveryScript,
    String executorMemory,
    Map<String, String> conf) {
  public SparkSection {
    master = master == null ? "local[2]" : master;
    partitions = partitions == null ? 1 : partitions;
    mode = mode == null ? "sync" : mode;
    deployMode = deployMode == null ? "client" : deployMode;
    executors = executors == null ? partitions : executors;
    executorGpus = executorGpus == null ? 0 : executorGpus;
    gpuDiscoveryScript =
        gpuDiscoveryScript == null
            ? "/opt/spark/examples/src/main/scripts/getGpusResources.sh"
            : gpuDiscoveryScript;
    conf = conf == null ? Map.of() : Map.copyOf(conf);
    ConfigException.check(partitions >= 1, "spark.partitions", partitions, "must be >= 1");
    ConfigException.check(
        mode.equals("sync"),
        "spark.mode",
        mode,
        "only sync is implemented (one Spark job per optimizer step); local-sgd is not available yet");
    ConfigException.check(
        List.of("client", "cluster").contains(deployMode),
        "spark.deploy_mode",
        deployMode,
        "use client or cluster");
    ConfigException.check(executors >= 1, "spark.executors", executors, "must be >= 1");
    ConfigException.check(executorGpus >= 0, "spark.executor_gpus", executorGpus, "must be >= 0");
  }

  public static SparkSection defaults() {
    return new SparkSection(null, null, null, null, null, null, null, null, null);
  }
}
