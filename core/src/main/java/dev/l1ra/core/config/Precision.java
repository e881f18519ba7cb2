package dev.l1ra.core.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.Locale;

/**
 * Compute precision of the base model and activations ({@code model.precision}). Adapter master
 * weights and optimizer moments are always fp32. The engine's data type for each is the model
 * module's business ({@code dev.l1ra.model.engine.Precisions}).
 */
public enum Precision {
  FP32,
  FP16;

  /**
   * Parses "fp32" / "fp16" (also "float32", "float16"). bf16 is refused: the PyTorch engine of DJL
   * 0.36 has no bfloat16 NDArray type (its dtype mapping stops before it and the JVM aborts), so
   * the message says so and suggests fp16. Messages leave the value to the caller, which names it
   * with its key or option.
   */
  @JsonCreator
  public static Precision parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return switch (n) {
      case "fp32", "float32", "f32" -> FP32;
      case "fp16", "float16", "f16", "half" -> FP16;
      case "bf16", "bfloat16" ->
          throw new IllegalArgumentException(
              "bf16 is not supported by DJL 0.36's PyTorch engine (it has no bfloat16 NDArray"
                  + " type); use fp16, which trains with dynamic loss scaling, or fp32. bf16"
                  + " checkpoints are still loaded (converted on the host).");
      default ->
          throw new IllegalArgumentException("not one of [fp32, fp16] (bf16 is not supported)");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
