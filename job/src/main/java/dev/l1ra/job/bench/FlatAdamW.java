package dev.l1ra.job.bench;

import java.util.List;

/**
 * AdamW (decoupled weight decay, bias-corrected) over host arrays, one Java loop: the driver's
 * optimizer in {@code bench-dp}'s synchronous mode, timed on its own.
 */
final class FlatAdamW {
  private static final float LR = 1e-4f;
  private static final float B1 = 0.9f;
  private static final float B2 = 0.999f;
  private static final float EPS = 1e-8f;
  private static final float DECAY = 0.01f;

  private FlatAdamW() {}

  /**
   * One step of every tensor with its slice of the flat gradient (tensors back to back).
   *
   * @param step 1 for the first step
   */
  static void step(List<float[]> params, List<float[]> m, List<float[]> v, float[] grad, int step) {
    float c1 = 1 - (float) Math.pow(B1, step);
    float c2 = 1 - (float) Math.pow(B2, step);
    int at = 0;
    for (int i = 0; i < params.size(); i++) {
      float[] p = params.get(i);
      float[] mi = m.get(i);
      float[] vi = v.get(i);
      for (int j = 0; j < p.length; j++) {
        float g = grad[at + j];
        mi[j] = B1 * mi[j] + (1 - B1) * g;
        vi[j] = B2 * vi[j] + (1 - B2) * g * g;
        float update = (mi[j] / c1) / ((float) Math.sqrt(vi[j] / c2) + EPS);
        p[j] -= LR * (update + DECAY * p[j]);
      }
      at += p.length;
    }
  }
}
