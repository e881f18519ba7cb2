package dev.l1ra.job.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stand-in for a trainer in {@code bench-dp}: gradients of a layout's sizes, made once per
 * executor JVM (N(0, 1) times a per-tensor scale between 1e-6 and 1e-3, as LoRA gradients after
 * normalisation by the batch's tokens are), and a local round that changes a state as H AdamW steps
 * would, in one pass. No model, no engine: what is timed around it is the transport.
 */
final class SyntheticWorker {
  private static final Map<String, List<float[]>> GRADIENTS = new ConcurrentHashMap<>();

  private SyntheticWorker() {}

  /** Gradients of tensors of these sizes (cached in this JVM; the same in every task). */
  static List<float[]> gradients(int[] sizes) {
    String key = sizes.length + ":" + Arrays.hashCode(sizes);
    return GRADIENTS.computeIfAbsent(key, k -> make(sizes));
  }

  private static List<float[]> make(int[] sizes) {
    SplittableRandom r = new SplittableRandom(sizes.length);
    List<float[]> out = new ArrayList<>(sizes.length);
    for (int size : sizes) {
      float scale = (float) Math.pow(10, r.nextDouble(-6, -3));
      float[] g = new float[size];
      for (int j = 0; j < size; j++) {
        g[j] = (float) r.nextGaussian() * scale;
      }
      out.add(g);
    }
    return out;
  }

  /**
   * A round of {@code h} local AdamW steps with the cached gradients, as one pass: moments move
   * towards g and g², parameters by lr·h·m̂/(√v̂ + ε) with the task's own sign.
   *
   * @param state parameters, then first moments, then second moments (3·T tensors, in place)
   */
  static void localRound(List<float[]> state, int[] sizes, int h, int partition) {
    List<float[]> g = gradients(sizes);
    int t = sizes.length;
    float lr = 1e-4f * h * (partition % 2 == 0 ? 1 : -1);
    float b1 = (float) Math.pow(0.9, h);
    float b2 = (float) Math.pow(0.999, h);
    for (int i = 0; i < t; i++) {
      float[] p = state.get(i);
      float[] m = state.get(t + i);
      float[] v = state.get(2 * t + i);
      float[] gi = g.get(i);
      for (int j = 0; j < gi.length; j++) {
        m[j] = b1 * m[j] + (1 - b1) * gi[j];
        v[j] = b2 * v[j] + (1 - b2) * gi[j] * gi[j];
        p[j] -= lr * m[j] / ((float) Math.sqrt(v[j]) + 1e-8f);
      }
    }
  }
}
