package dev.l1ra.core.config;

/**
 * Run identity and outputs.
 *
 * @param name run name; outputs go to {@code outputDir/name}
 * @param outputDir parent of run folders (a local path or a Hadoop URI such as hdfs:// or dbfs:/)
 * @param seed seeds adapter initialisation, data order and dropout
 * @param baseline after an L1RA or AdaLoRA run, also train fixed-rank LoRA with the same total rank
 *     (AdaLoRA: the same final budget) and put both in the report (default true)
 */
public record RunSection(String name, String outputDir, Long seed, Boolean baseline) {
  public RunSection {
    name = name == null ? "run" : name;
    outputDir = outputDir == null ? "runs" : outputDir;
    seed = seed == null ? 42L : seed;
    baseline = baseline == null || baseline;
    ConfigException.check(
        name.matches("[A-Za-z0-9._-]+"), "run.name", name, "use letters, digits, '.', '_' or '-'");
  }

  public static RunSection defaults() {
    return new RunSection(null, null, null, null);
  }
}
