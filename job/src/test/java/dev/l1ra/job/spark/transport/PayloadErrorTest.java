package dev.l1ra.job.spark.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.safetensors.HalfFloats;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * fp16 and bf16 round-trip error on realistic values: the LoRA gradients PEFT computed for the
 * fixtures (3 models × 3 adapters, 28–36 tensors each), the same gradients at the magnitude of a
 * large batch (÷ 10⁴), and AdamW parameter deltas over 16 steps. Prints the figures the README
 * quotes; asserts the bounds the formats promise.
 */
class PayloadErrorTest {
  /** Relative L2 error ‖x̂ − x‖/‖x‖ (worst tensor) and the largest elementwise relative error. */
  record Error(double worstTensorL2, double allL2, double maxElementRel, double flushedToZero) {}

  static List<float[]> fixtureGradients() {
    List<float[]> out = new ArrayList<>();
    for (String model : Fixtures.MODELS) {
      for (String adapter : Fixtures.ADAPTERS) {
        try (SafetensorsFile f =
            SafetensorsFile.open(
                Fixtures.model(model).resolve(adapter).resolve("expected.safetensors"))) {
          for (String name : f.names().stream().sorted().toList()) {
            if (name.endsWith(".grad")) {
              out.add(f.floats(name));
            }
          }
        }
      }
    }
    return out;
  }

  static List<float[]> scaled(List<float[]> ts, float factor) {
    List<float[]> out = new ArrayList<>();
    for (float[] t : ts) {
      float[] s = new float[t.length];
      for (int i = 0; i < t.length; i++) {
        s[i] = t[i] * factor;
      }
      out.add(s);
    }
    return out;
  }

  /** Parameter change after 16 AdamW steps (lr 1e-4) on noisy copies of each gradient. */
  static List<float[]> adamDeltas(List<float[]> grads) {
    SplittableRandom r = new SplittableRandom(11);
    List<float[]> out = new ArrayList<>();
    for (float[] g : grads) {
      float[] m = new float[g.length];
      float[] v = new float[g.length];
      float[] delta = new float[g.length];
      for (int step = 1; step <= 16; step++) {
        float c1 = 1 - (float) Math.pow(0.9, step);
        float c2 = 1 - (float) Math.pow(0.999, step);
        for (int i = 0; i < g.length; i++) {
          float gi = g[i] * (float) (1 + 0.5 * r.nextGaussian());
          m[i] = 0.9f * m[i] + 0.1f * gi;
          v[i] = 0.999f * v[i] + 0.001f * gi * gi;
          delta[i] -= 1e-4f * (m[i] / c1) / ((float) Math.sqrt(v[i] / c2) + 1e-8f);
        }
      }
      out.add(delta);
    }
    return out;
  }

  static Error error(List<float[]> xs, List<float[]> back) {
    double worst = 0;
    double errAll = 0;
    double normAll = 0;
    double maxRel = 0;
    long flushed = 0;
    long nonzero = 0;
    for (int t = 0; t < xs.size(); t++) {
      double err = 0;
      double norm = 0;
      for (int i = 0; i < xs.get(t).length; i++) {
        double x = xs.get(t)[i];
        double d = back.get(t)[i] - x;
        err += d * d;
        norm += x * x;
        if (x != 0) {
          nonzero++;
          maxRel = Math.max(maxRel, Math.abs(d / x));
          flushed += back.get(t)[i] == 0 ? 1 : 0;
        }
      }
      if (norm > 0) {
        worst = Math.max(worst, Math.sqrt(err / norm));
      }
      errAll += err;
      normAll += norm;
    }
    return new Error(worst, Math.sqrt(errAll / normAll), maxRel, (double) flushed / nonzero);
  }

  static List<float[]> roundTrip(List<float[]> xs, PayloadDtype d) {
    return PayloadCodec.decodeTensors(PayloadCodec.encode(xs, d, 1));
  }

  /** Plain fp16 without the per-segment scale, for comparison. */
  static List<float[]> unscaledFp16(List<float[]> xs) {
    List<float[]> out = new ArrayList<>();
    for (float[] t : xs) {
      float[] b = new float[t.length];
      for (int i = 0; i < t.length; i++) {
        b[i] = HalfFloats.halfToFloat(HalfFloats.floatToHalf(t[i]));
      }
      out.add(b);
    }
    return out;
  }

  @Test
  void halfPrecisionErrorOnGradientsAndDeltas() {
    List<float[]> grads = fixtureGradients();
    assertTrue(grads.size() >= 80, "fixture gradients: " + grads.size());
    List<List<float[]>> sets = List.of(grads, scaled(grads, 1e-4f), adamDeltas(grads));
    List<String> names = List.of("PEFT gradients", "gradients ÷ 1e4", "AdamW deltas, 16 steps");
    for (int s = 0; s < sets.size(); s++) {
      List<float[]> xs = sets.get(s);
      Error f16 = error(xs, roundTrip(xs, PayloadDtype.FP16));
      Error bf16 = error(xs, roundTrip(xs, PayloadDtype.BF16));
      Error plain = error(xs, unscaledFp16(xs));
      // printed, not logged: the test JVM's log4j configuration drops INFO; the README quotes these
      System.out.printf(
          "payload error, %s: fp16 %s; bf16 %s; fp16 without scale %s%n",
          names.get(s), f16, bf16, plain);
      // 11 and 8 significant bits: relative L2 error about 2^-12 and 2^-9 of a uniform rounding
      assertTrue(f16.worstTensorL2() < 4e-4, names.get(s) + " fp16 " + f16);
      assertTrue(bf16.worstTensorL2() < 3e-3, names.get(s) + " bf16 " + bf16);
      assertTrue(bf16.maxElementRel() <= 0x1p-8, names.get(s) + " bf16 " + bf16);
    }
    Error small = error(sets.get(1), unscaledFp16(sets.get(1)));
    assertTrue(small.flushedToZero() > 0.01, "unscaled fp16 loses small gradients: " + small);
  }
}
