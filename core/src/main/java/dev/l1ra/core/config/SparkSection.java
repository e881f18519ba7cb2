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
 * @param mode sync: one Spark job per optimizer step (exact data parallelism); rounds: one Spark
 *     job per round of {@code roundSteps} local steps, then the workers' states are averaged
 * @param roundSteps optimizer steps per round in rounds mode (H)
 * @param outerLr rounds mode: step size of the outer update on the averaged change (1: plain
 *     averaging; DiLoCo uses 0.7 with Nesterov momentum 0.9)
 * @param outerMomentum rounds mode: Nesterov momentum of the outer update (0: none)
 * @param payload precision of what workers send back (gradients or a round's change)
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
    int roundSteps,
    double outerLr,
    double outerMomentum,
    WirePrecision payload,
    DeployMode deployMode,
    int executors,
    int executorGpus,
    String gpuDiscoveryScript,
    String executorMemory,
    Map<String, String> conf) {
  public SparkSection {
    conf = Map.copyOf(conf);
    ConfigException.check(partitions >= 1, "spark.partitions", partitions, "must be >= 1");
    ConfigException.check(roundSteps >= 1, "spark.round_steps", roundSteps, "must be >= 1");
    ConfigException.check(
        outerLr > 0 && outerLr <= 2, "spark.outer_lr", outerLr, "must be in (0, 2]; 1 averages");
    ConfigException.check(
        outerMomentum >= 0 && outerMomentum < 1,
        "spark.outer_momentum",
        outerMomentum,
        "must be in [0, 1)");
    ConfigException.check(executors >= 1, "spark.executors", executors, "must be >= 1");
    ConfigException.check(executorGpus >= 0, "spark.executor_gpus", executorGpus, "must be >= 0");
  }

  /** Rounds of local steps (else one Spark job per step). */
  public boolean rounds() {
    return mode == SparkMode.ROUNDS;
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      String master,
      Integer partitions,
      SparkMode mode,
      Integer roundSteps,
      Double outerLr,
      Double outerMomentum,
      WirePrecision payload,
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
        requireNonNullElse(k.roundSteps(), 8),
        requireNonNullElse(k.outerLr(), 1.0),
        requireNonNullElse(k.outerMomentum(), 0.0),
        requireNonNullElse(k.payload(), WirePrecision.FP32),
        requireNonNullElse(k.deployMode(), DeployMode.CLIENT),
        requireNonNullElse(k.executors(), partitions),
        requireNonNullElse(k.executorGpus(), 0),
        requireNonNullElse(
            k.gpuDiscoveryScript(), "/opt/spark/examples/src/main/scripts/getGpusResources.sh"),
        k.executorMemory(),
        requireNonNullElse(k.conf(), Map.of()));
  }
}
