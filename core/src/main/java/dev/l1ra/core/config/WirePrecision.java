package dev.l1ra.core.config;

import java.util.Locale;

/**
 * Precision of the tensors workers send back through Spark ({@code spark.payload}): gradients in
 * sync mode, the change of a round's state in rounds mode. fp32 is exact; fp16 (with a power-of-two
 * scale per tensor) and bf16 halve the bytes at a measured error (README, "Data parallelism").
 */
public enum WirePrecision {
  FP32,
  FP16,
  BF16;

  /** The YAML spelling. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
