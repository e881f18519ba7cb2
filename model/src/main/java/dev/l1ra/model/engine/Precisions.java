package dev.l1ra.model.engine;

import ai.djl.ndarray.types.DataType;
import dev.l1ra.core.config.Precision;

/** The engine's data type for a compute {@link Precision}. */
public final class Precisions {
  private Precisions() {}

  public static DataType dataType(Precision p) {
    return switch (p) {
      case FP32 -> DataType.FLOAT32;
      case FP16 -> DataType.FLOAT16;
    };
  }
}
