package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.model.adapter.ParamGroup;
import dev.l1ra.model.adapter.TrainableParam;
import org.junit.jupiter.api.Test;

class AdamWTest {

  /** torch.optim.AdamW on one scalar, in double precision. */
  private static double[] reference(double p, double[] grads, double lr, double wd) {
    double m = 0;
    double v = 0;
    double[] out = new double[grads.length];
    for (int t = 1; t <= grads.length; t++) {
      double g = grads[t - 1];
      p *= 1 - lr * wd;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      double bc1 = 1 - Math.pow(0.9, t);
      double bc2 = 1 - Math.pow(0.999, t);
      p -= lr / bc1 * m / (Math.sqrt(v) / Math.sqrt(bc2) + 1e-8);
      out[t - 1] = p;
    }
    return out;
  }

  @Test
  void matchesTorchAdamWFormula() {
    double[] grads = {0.5, -0.25, 0.125, 2.0};
    double[] want = reference(1.0, grads, 0.01, 0.1);
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdamW opt = new AdamW(AdamSettings.defaults(), m)) {
      NDArray p = m.create(new float[] {1f}, new Shape(1));
      TrainableParam param = TrainableParam.plain("w", p, ParamGroup.MATRIX);
      for (int t = 0; t < grads.length; t++) {
        try (NDScope scope = new NDScope()) {
          opt.update(
              param,
              m.create(new float[] {(float) grads[t]}, new Shape(1)),
              new AdamW.GroupStep(0.01, 0.1));
        }
        assertEquals(want[t], p.getFloat(0), 1e-6, "step " + (t + 1));
      }
    }
  }

  @Test
  void ageIsPerRankSoANewRankGetsItsOwnBiasCorrection() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdamW opt = new AdamW(AdamSettings.defaults(), m)) {
      // lora_A [r=2, in=1]: rank 0 has trained 3 steps, rank 1 is new (age 0, zero moments)
      NDArray a = m.create(new float[] {0f, 0f}, new Shape(2, 1));
      TrainableParam pa =
          new TrainableParam("base_model.model.x.lora_A.weight", a, ParamGroup.MATRIX, 0);
      NDArray g = m.create(new float[] {1f, 1f}, new Shape(2, 1));
      try (NDScope scope = new NDScope()) {
        opt.update(pa, g, new AdamW.GroupStep(0.1, 0));
      }
      AdamW.Moments s = opt.moments(pa.name());
      assertArrayEquals(new long[] {2, 1}, s.age().getShape().getShape());
      s.age().set(new NDIndex("0"), 3f);
      s.m().set(new NDIndex("1"), 0f);
      s.v().set(new NDIndex("1"), 0f);
      s.age().set(new NDIndex("1"), 0f);
      a.set(new NDIndex("..."), 0f);
      try (NDScope scope = new NDScope()) {
        opt.update(pa, g, new AdamW.GroupStep(0.1, 0));
      }
      // a fresh rank's first Adam step with g = 1 moves it by exactly lr
      assertEquals(-0.1f, a.getFloat(1, 0), 1e-6);
      float[] age = s.age().toFloatArray();
      assertArrayEquals(new float[] {4f, 1f}, age);
    }
  }
}
