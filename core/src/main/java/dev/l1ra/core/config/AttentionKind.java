package dev.l1ra.core.config;

import java.util.Locale;

/** The attention kernel a model runs with ({@code model.attention}). */
public enum AttentionKind {
  /** The plain-op reference kernel. */
  PLAIN,
  /** scaled_dot_product_attention through a TorchScript module, or an error saying why not. */
  FUSED,
  /** Fused where it loads, else plain with a warning naming the cause. */
  AUTO;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
