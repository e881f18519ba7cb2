package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * Run identity and outputs.
 *
 * @param name run name; outputs go to {@code outputDir/name}
 * @param outputDir parent of run folders (a local path or a Hadoop URI such as hdfs:// or dbfs:/)
 * @param seed seeds adapter initialisation, data order and dropout
 * @param baseline after an L1RA or AdaLoRA run, also train fixed-rank LoRA with the same total rank
 *     (AdaLoRA: the same final budget) and put both in the report (default true)
 */
public record RunSection(String name, String outputDir, long seed, boolean baseline) {
  public RunSection {
    ConfigException.check(
        name != null && name.matches("[A-Za-z0-9._-]+"),
        "run.name",
        name,
        "use letters, digits, '.', '_' or '-'");
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(String name, String outputDir, Long seed, Boolean baseline) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static RunSection of(Keys k) {
    return new RunSection(
        requireNonNullElse(k.name(), "run"),
        requireNonNullElse(k.outputDir(), "runs"),
        requireNonNullElse(k.seed(), 42L),
        requireNonNullElse(k.baseline(), true));
  }
}
