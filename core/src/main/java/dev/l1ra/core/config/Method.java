package dev.l1ra.core.config;

import java.util.Locale;

/** How adapter ranks are chosen ({@code method}). */
public enum Method {
  /** Fixed ranks from {@code lora.strategy} (and {@code rank_pattern}). */
  LORA,
  /** L1RA: gated adapters whose ranks move during training ({@code l1ra}). */
  L1RA,
  /** AdaLoRA, the classic baseline ({@code adalora}). */
  ADALORA;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
