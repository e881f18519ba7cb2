package dev.l1ra.core.lora;

import dev.l1ra.core.hf.ModuleId;

/**
 * One adapter as resolved for a model: where it sits, its rank, alpha and shapes.
 *
 * @param in input features (columns of A)
 * @param out output features (rows of B)
 */
public record AdapterSpec(ModuleId id, int rank, double alpha, int in, int out, boolean rslora) {
  public AdapterSpec {
    if (rank <= 0) {
      throw new IllegalArgumentException("adapter " + id + ": rank must be > 0, got " + rank);
    }
  }

  /** The LoRA scaling s: alpha/r, or alpha/sqrt(r) with rsLoRA. */
  public double scaling() {
    return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  /** Trainable parameters r·(in + out). */
  public long parameters() {
    return (long) rank * (in + out);
  }

  public AdapterSpec withRank(int newRank) {
    return new AdapterSpec(id, newRank, alpha, in, out, rslora);
  }

  public AdapterSpec withAlpha(double newAlpha) {
    return new AdapterSpec(id, rank, newAlpha, in, out, rslora);
  }
}
