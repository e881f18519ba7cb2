package dev.l1ra.core.plan;

import dev.l1ra.core.hf.ModuleId;
import java.io.Serializable;

/**
 * One adapter's L1RA gates at an allocation event, read from the device once per event.
 *
 * @param gates c, one entry per rank (the rank is {@code gates.length})
 * @param rankCost trainable parameters one rank costs here: d_in + d_out (+1 for the gate)
 * @param maxRank the most ranks this adapter may hold (e.g. min(d_in, d_out))
 */
public record GateSnapshot(ModuleId id, double[] gates, int rankCost, int maxRank)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public GateSnapshot {
    if (id == null) {
      throw new IllegalArgumentException("gate snapshot needs a module id, got null");
    }
    if (gates.length == 0) {
      throw new IllegalArgumentException("adapter " + id.hfName() + " has no ranks");
    }
    for (int j = 0; j < gates.length; j++) {
      if (Double.isNaN(gates[j])) {
        throw new IllegalArgumentException(
            "adapter "
                + id.hfName()
                + ": gate "
                + j
                + " is NaN (the run diverged before this event)");
      }
    }
    if (rankCost < 1) {
      throw new IllegalArgumentException(
          "adapter " + id.hfName() + ": rankCost must be >= 1, got " + rankCost);
    }
    if (maxRank < gates.length) {
      throw new IllegalArgumentException(
          "adapter "
              + id.hfName()
              + ": maxRank "
              + maxRank
              + " is below its current rank "
              + gates.length);
    }
    gates = gates.clone();
  }

  @Override
  public double[] gates() {
    return gates.clone();
  }

  public int rank() {
    return gates.length;
  }

  public double min() {
    double m = Double.POSITIVE_INFINITY;
    for (double g : gates) {
      m = Math.min(m, g);
    }
    return m;
  }

  public double mean() {
    double s = 0;
    for (double g : gates) {
      s += g;
    }
    return s / gates.length;
  }
}
