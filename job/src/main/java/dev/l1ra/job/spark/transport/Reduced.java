package dev.l1ra.job.spark.transport;

import java.util.ArrayList;
import java.util.List;

/**
 * A reduction's result at the driver: the full vector Σ wᵢ·xᵢ (all tensors concatenated, in
 * encoding order), Σ wᵢ and the summed scalars. For gradients encoded with weight 1 the values are
 * the plain sum; for token-weighted states {@link #meanInPlace()} gives the weighted mean.
 */
public final class Reduced {
  private final float[] values;
  private final double weight;
  private final double[] scalars;

  Reduced(float[] values, double weight, double[] scalars) {
    this.values = values;
    this.weight = weight;
    this.scalars = scalars;
  }

  /** Σ wᵢ·xᵢ, flat (not a copy). */
  public float[] values() {
    return values;
  }

  /** Σ wᵢ. */
  public double weight() {
    return weight;
  }

  public double scalar(int i) {
    return scalars[i];
  }

  public double[] scalars() {
    return scalars.clone();
  }

  /**
   * Divides the values by Σ wᵢ (in place, in fp32 after one division in float64) and returns them.
   */
  public float[] meanInPlace() {
    if (!(weight > 0)) {
      throw new IllegalStateException("weighted mean with total weight " + weight);
    }
    float inv = (float) (1 / weight);
    for (int i = 0; i < values.length; i++) {
      values[i] *= inv;
    }
    return values;
  }

  /** The flat values cut into arrays of these lengths (copies; the lengths must add up). */
  public List<float[]> split(int[] lengths) {
    List<float[]> out = new ArrayList<>(lengths.length);
    int at = 0;
    for (int n : lengths) {
      float[] t = new float[n];
      System.arraycopy(values, at, t, 0, n);
      out.add(t);
      at += n;
    }
    if (at != values.length) {
      throw new IllegalArgumentException(
          "tensor lengths add up to " + at + ", the reduced vector has " + values.length);
    }
    return out;
  }
}
