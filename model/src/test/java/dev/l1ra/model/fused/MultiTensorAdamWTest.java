package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.engine.EngineInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-tensor kernels' pieces: the squared norm (exact order and fast), L1RA's gate rule, and
 * reading and zeroing the parameters' gradients. The update itself is checked against the
 * per-tensor reference in {@code TrainOptimizerTest}.
 */
class MultiTensorAdamWTest {
  @TempDir static Path cache;
  static MultiTensorAdamW fused;

  @BeforeAll
  static void load() {
    fused = MultiTensorAdamW.load(Device.cpu(), cache);
  }

  @AfterAll
  static void close() {
    fused.close();
  }

  @Test
  void sumOfSquaresExactOnCpuAndFastPathAgrees() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      List<NDArray> g = new ArrayList<>();
      SplittableRandom r = new SplittableRandom(11);
      for (Shape s : List.of(new Shape(3, 5), new Shape(4, 3), new Shape(3))) {
        g.add(m.randomUniform(-1, 1, s).mul((float) r.nextDouble()));
      }
      NDArray want = null;
      for (NDArray x : g) {
        NDArray sq = x.square().sum();
        want = want == null ? sq : want.add(sq);
      }
      assertEquals(want.getFloat(), fused.sumOfSquares(g, g, false), 0.0, "exact path");
      assertEquals(want.getFloat(), fused.sumOfSquares(g, g, true), 1e-5 * want.getFloat(), "fast");
    }
  }

  @Test
  void gateStatsAreTheMeanAndTheCountBelowTheThreshold() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      List<NDArray> gates =
          List.of(
              m.create(new float[] {0.9f, 0.05f, 0.5f}),
              m.create(new float[] {0.01f, 0.2f}),
              m.create(new float[] {1f, 0.09f, 0.1f, 0.3f}));
      float[] v = fused.gateStats(gates, 0.1, m).toFloatArray();
      float sum = 0.9f + 0.05f + 0.5f + 0.01f + 0.2f + 1f + 0.09f + 0.1f + 0.3f;
      assertEquals(sum / 9, v[0], 1e-6, "mean of all gates");
      assertEquals(3f, v[1], 0f, "gates below 0.1 (0.05, 0.01, 0.09; 0.1 itself is not)");
    }
  }

  @Test
  void gateRuleShrinksClampsAndSoftThresholds() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      NDArray c1 = m.create(new float[] {0.5f, 0.01f, -0.2f, 1.5f});
      NDArray c2 = m.create(new float[] {-0.01f, 0.03f});
      fused.gateRule(List.of(c1, c2), 0.02, false);
      assertArrayEquals(new float[] {0.48f, 0.01f, 0f, 1f}, c1.toFloatArray(), 1e-7f);
      assertArrayEquals(new float[] {0f, 0.01f}, c2.toFloatArray(), 1e-7f);
      NDArray c3 = m.create(new float[] {0.01f, 0.5f});
      fused.gateRule(List.of(c3), 0.02, true);
      assertArrayEquals(new float[] {0f, 0.48f}, c3.toFloatArray(), 1e-7f);
    }
  }

  @Test
  void gradientsAndZero() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      NDArray p = m.create(new float[] {1f, 2f});
      NDArray q = m.create(new float[] {3f});
      p.setRequiresGradient(true);
      q.setRequiresGradient(true);
      try (GradientCollector gc = EngineInfo.engine().newGradientCollector()) {
        gc.backward(p.mul(p).sum());
      }
      List<NDArray> g = fused.gradients(List.of(p, q), m);
      assertArrayEquals(new float[] {2f, 4f}, g.get(0).toFloatArray());
      assertArrayEquals(new float[] {0f}, g.get(1).toFloatArray());
      fused.zeroGradients(List.of(p, q));
      assertArrayEquals(new float[] {0f, 0f}, p.getGradient().toFloatArray());
    }
  }
}
