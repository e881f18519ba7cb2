package dev.l1ra.core.config;

import java.util.Map;

/**
 * How the job runs on Spark.
 *
 * @param master Spark master for --local runs (local[N]); clusters take it from spark-submit
 * @param partitions data-parallel workers (one training task per executor JVM/GPU)
 * @param mode sync (one Spark job per optimizer step, exact) or local-sgd (H local steps, then
 *     parameter averaging)
 * @param localSteps H for local-sgd
 * @param conf extra Spark settings passed to the session (and to spark-submit)
 */
public record SparkSection(
    String master, Integer partitions, String mode, Integer localSteps, Map<String, String> conf) {
  public SparkSection {
    master = master == null ? "local[2]" : master;
    partitions = partitions == null ? 1 : partitions;
    mode = mode == null ? "sync" : mode;
    localSteps = localSteps == null ? 4 : localSteps;
    conf = conf == null ? Map.of() : Map.copyOf(conf);
    ConfigException.check(partitions >= 1, "spark.partitions", partitions, "must be >= 1");
    ConfigException.check(
        java.util.List.of("sync", "local-sgd").contains(mode),
        "spark.mode",
        mode,
        "use sync or local-sgd");
    ConfigException.check(localSteps >= 1, "spark.local_steps", localSteps, "must be >= 1");
  }

  public static SparkSection defaults() {
    return new SparkSection(null, null, null, null, null);
  }
}
