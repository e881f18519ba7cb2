package dev.l1ra.core.hf;

import java.util.List;

/**
 * Rotary position embedding parameters, from either config layout (transformers 5 {@code
 * rope_parameters} or 4.x {@code rope_theta} + {@code rope_scaling}).
 *
 * @param theta base frequency
 * @param type {@code default}, {@code linear} or {@code llama3}
 * @param factor scaling factor (1 for default)
 * @param lowFreqFactor llama3 only
 * @param highFreqFactor llama3 only
 * @param originalMaxPositions llama3 only: the pre-training context length
 */
public record RopeScaling(
    double theta,
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositions) {

  public static final List<String> SUPPORTED = List.of("default", "linear", "llama3");

  public RopeScaling {
    if (!(theta > 0)) {
      throw new IllegalArgumentException("rope_theta must be > 0, got " + theta);
    }
    if (!SUPPORTED.contains(type)) {
      throw new IllegalArgumentException(
          "rope type \"" + type + "\" is not supported; supported: " + SUPPORTED);
    }
    if (!(factor > 0)) {
      throw new IllegalArgumentException("rope scaling factor must be > 0, got " + factor);
    }
    if (type.equals("llama3") && (originalMaxPositions <= 0 || !(highFreqFactor > lowFreqFactor))) {
      throw new IllegalArgumentException(
          "llama3 rope scaling needs original_max_position_embeddings > 0 and high_freq_factor >"
              + " low_freq_factor");
    }
  }

  public static RopeScaling plain(double theta) {
    return new RopeScaling(theta, "default", 1, 0, 0, 0);
  }

  /**
   * Inverse frequencies for a head dimension, as transformers computes them ({@code
   * 1/theta^(2i/d)}, then the scaling rule of {@link #type}); length {@code headDim/2}.
   */
  public float[] inverseFrequencies(int headDim) {
    int half = headDim / 2;
    float[] inv = new float[half];
    for (int i = 0; i < half; i++) {
      // transformers: base ** (arange(0, dim, 2).float() / dim), in float32
      float exponent = (float) (2 * i) / headDim;
      inv[i] = (float) (1.0 / Math.pow(theta, exponent));
    }
    switch (type) {
      case "linear" -> {
        for (int i = 0; i < half; i++) {
          inv[i] = (float) (inv[i] / factor);
        }
      }
      case "llama3" -> llama3(inv);
      default -> {}
    }
    return inv;
  }

  /**
   * transformers' {@code _compute_llama3_parameters}: long wavelengths slowed, a smooth band
   * between.
   */
  private void llama3(float[] inv) {
    double lowWavelen = originalMaxPositions / lowFreqFactor;
    double highWavelen = originalMaxPositions / highFreqFactor;
    for (int i = 0; i < inv.length; i++) {
      double wavelen = 2 * Math.PI / inv[i];
      if (wavelen > lowWavelen) {
        inv[i] = (float) (inv[i] / factor);
      } else if (wavelen >= highWavelen) {
        double smooth =
            (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
      }
    }
  }
}
