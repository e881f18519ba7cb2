package dev.l1ra.core.config;

/** How workers synchronise ({@code spark.mode}). */
public enum SparkMode {
  /** One Spark job per optimizer step: exact data parallelism. */
  SYNC("sync"),
  /** Rounds of local steps, then averaging (not implemented yet; refused by the config). */
  LOCAL_SGD("local-sgd");

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
