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
