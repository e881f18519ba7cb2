package dev.l1ra.job.spark;

import java.io.Serializable;

/**
 * One task's contribution to a step: gradient sums (already divided by the global normaliser, times
 * the loss scale) per adapter tensor, NLL sum, token counts and the task's compute time. Partials
 * add up (compute time: the slowest task, the step's critical path).
 */
public record GradPartial(
    float[][] grads, double nllSum, long learned, long input, double computeSeconds)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Element-wise sum; either side may be null (the aggregation's zero). */
  public static GradPartial merge(GradPartial a, GradPartial b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    float[][] g = new float[a.grads.length][];
    for (int i = 0; i < g.length; i++) {
      g[i] = a.grads[i].clone();
      float[] y = b.grads[i];
      for (int j = 0; j < y.length; j++) {
        g[i][j] += y[j];
      }
    }
    return new GradPartial(
        g,
        a.nllSum + b.nllSum,
        a.learned + b.learned,
        a.input + b.input,
        Math.max(a.computeSeconds, b.computeSeconds));
  }
}
