package dev.l1ra.job.report;

import java.nio.file.Path;

/** Where a run's outputs go: {@code <output_dir>/<run name>/...}. */
public record RunPaths(Path dir) {
  public Path config() {
    return dir.resolve("config.yaml");
  }

  public Path metrics() {
    return dir.resolve("metrics.csv");
  }

  public Path ranks() {
    return dir.resolve("ranks.csv");
  }

  public Path report() {
    return dir.resolve("report.json");
  }

  public Path adapter() {
    return dir.resolve("adapter");
  }

  /** The lock a job holds on the run folder while it runs ({@code RunLock}). */
  public Path lock() {
    return dir.resolve(".lock");
  }

  /** What the adapter was trained from (versions, commit, data), beside the PEFT files. */
  public Path provenance() {
    return adapter().resolve("provenance.json");
  }

  public Path checkpoints() {
    return dir.resolve("checkpoints");
  }

  public Path lossCurve() {
    return dir.resolve("loss_curve.png");
  }

  public Path rankHeatmap() {
    return dir.resolve("rank_heatmap.png");
  }

  public Path rankEvolution() {
    return dir.resolve("rank_evolution.png");
  }
}
