package dev.l1ra.core.optim;

import java.io.Serializable;

/**
 * AdamW's constants (PyTorch's form; the learning rate and weight decay come per step and per
 * parameter group).
 */
public record AdamSettings(double beta1, double beta2, double eps) implements Serializable {
  public AdamSettings {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException(
          "adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException("adam eps must be > 0, got " + eps);
    }
  }

  /** PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8. */
  public static AdamSettings defaults() {
    return new AdamSettings(0.9, 0.999, 1e-8);
  }
}
