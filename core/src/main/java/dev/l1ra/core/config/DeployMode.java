package dev.l1ra.core.config;

import java.util.Locale;

/** Where spark-submit runs the driver ({@code spark.deploy_mode}). */
public enum DeployMode {
  CLIENT,
  CLUSTER;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
