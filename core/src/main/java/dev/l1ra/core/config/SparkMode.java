package dev.l1ra.core.config;

/** How workers synchronise ({@code spark.mode}). */
public enum SparkMode {
  /**
   * One Spark job per optimizer step: workers return gradients, the driver sums them and applies
   * the optimizer. Exact data parallelism: 1 or N partitions give the same steps.
   */
  SYNC("sync"),
  /**
   * Rounds of local steps (local SGD, DiLoCo-style): one Spark job per round of {@code
   * spark.round_steps} optimizer steps; each worker runs them on its shard with its own AdamW from
   * the broadcast state, and the driver averages the workers' states (weighted by tokens).
   */
  ROUNDS("rounds");

  private final String spelling;

  SparkMode(String spelling) {
    this.spelling = spelling;
  }

  /** The YAML spelling. */
  @Override
  public String toString() {
    return spelling;
  }
}
