package dev.l1ra.core.optim;

import java.io.Serializable;

/**
 * L1RA's decoupled L1 on the gates (shared/notes §1.2): after each Adam step c ← c − τ·sgnτ(c) with
 * τ = η_c·λ, then the clamp to [0, 1].
 *
 * @param etaC the gates' constant learning rate
 * @param lambda the L1 strength
 * @param softThreshold entries with |c| ≤ τ become 0 (exact soft-thresholding) instead of staying
 */
public record GateRule(double etaC, double lambda, boolean softThreshold) implements Serializable {
  /** τ = η_c·λ. */
  public double tau() {
    return etaC * lambda;
  }
}
