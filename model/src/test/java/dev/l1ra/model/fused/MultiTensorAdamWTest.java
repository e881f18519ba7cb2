package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.adapter.ParamGroup;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.train.AdamW;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-tensor optimizer against the per-tensor reference ({@link AdamW#update}): bit for bit
 * on the CPU, over tensors of different shapes and rank axes whose ranks have different ages (as
 * after an L1RA reallocation), with weight decay on some and not others.
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

  /** Parameters: A [3, 5] (axis 0), B [4, 3] (axis 1), a gate [3] (axis 0), a plain [2, 2]. */
  private static List<TrainableParam> params(NDManager m, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<TrainableParam> out = new ArrayList<>();
    out.add(new TrainableParam("a", rand(m, r, new Shape(3, 5)), ParamGroup.MATRIX, 0));
    out.add(new TrainableParam("b", rand(m, r, new Shape(4, 3)), ParamGroup.MATRIX, 1));
    out.add(new TrainableParam("c", rand(m, r, new Shape(3)), ParamGroup.GATE, 0));
    out.add(TrainableParam.plain("w", rand(m, r, new Shape(2, 2)), ParamGroup.SINGULAR));
    return out;
  }

  private static NDArray rand(NDManager m, SplittableRandom r, Shape s) {
    float[] v = new float[(int) s.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    NDArray x = Ops.engineOwned(m.create(v, s));
    NDScope.unregister(x);
    return x;
  }

  @Test
  void updateIsBitwiseThePerTensorReference() {
    AdamW.Settings st = new AdamW.Settings(0.9, 0.999, 1e-8);
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE);
        AdamW ref = new AdamW(st, m);
        AdamW mine = new AdamW(st, m)) {
      List<TrainableParam> want = params(m, 1);
      List<TrainableParam> got = params(m, 1);
      double[] lrs = {1e-3, 1e-3, 2e-2, 5e-4};
      double[] wds = {0.1, 0.1, 0, 0};
      SplittableRandom r = new SplittableRandom(9);
      for (int step = 0; step < 6; step++) {
        if (step == 3) { // a reallocation: ranks 1 of A and 2 of B restart with zero state
          restartRank(ref, want);
          restartRank(mine, got);
        }
        long gs = r.nextLong();
        double coef = 0.5 + step * 0.1;
        try (NDScope scope = new NDScope()) {
          List<NDArray> g1 = grads(m, want, gs);
          for (int i = 0; i < want.size(); i++) {
            ref.update(
                want.get(i), g1.get(i).mul((float) coef), new AdamW.GroupStep(lrs[i], wds[i]));
          }
          List<NDArray> g2 = grads(m, got, gs);
          step(mine, got, g2, coef, lrs, wds);
        }
      }
      for (int i = 0; i < want.size(); i++) {
        String n = want.get(i).name();
        assertArrayEquals(want.get(i).array().toFloatArray(), got.get(i).array().toFloatArray(), n);
        assertArrayEquals(
            ref.moments(n).v().toFloatArray(), mine.moments(n).v().toFloatArray(), n + " v");
        assertArrayEquals(
            ref.moments(n).age().toFloatArray(), mine.moments(n).age().toFloatArray(), n + " age");
      }
    }
  }

  private static List<NDArray> grads(NDManager m, List<TrainableParam> ps, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<NDArray> out = new ArrayList<>();
    for (TrainableParam p : ps) {
      out.add(rand(m, r, p.array().getShape()));
    }
    return out;
  }

  private static void step(
      AdamW adam,
      List<TrainableParam> ps,
      List<NDArray> grads,
      double coef,
      double[] lrs,
      double[] wds) {
    List<NDArray> p = new ArrayList<>();
    List<NDArray> mm = new ArrayList<>();
    List<NDArray> vv = new ArrayList<>();
    List<NDArray> age = new ArrayList<>();
    long[] groups = new long[ps.size()];
    double[] decays = new double[ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      groups[i] = i;
      AdamW.Moments s = adam.momentsFor(ps.get(i));
      p.add(ps.get(i).array());
      mm.add(s.m());
      vv.add(s.v());
      age.add(s.age());
      decays[i] = wds[i] == 0 ? 1 : 1 - lrs[i] * wds[i];
    }
    AdamW.Settings st = adam.settings();
    fused.update(
        p,
        grads,
        mm,
        vv,
        age,
        groups,
        lrs,
        decays,
        new MultiTensorAdamW.Hyper(coef, st.beta1(), st.beta2(), st.eps()));
  }

  /** Zeroes one rank's moments and age (A: row 1, B: column 2), as rank surgery leaves them. */
  private static void restartRank(AdamW adam, List<TrainableParam> ps) {
    AdamW.Moments a = adam.moments(ps.get(0).name());
    for (NDArray x : List.of(a.m(), a.v(), a.age())) {
      x.set(new NDIndex("1"), 0f);
    }
    AdamW.Moments b = adam.moments(ps.get(1).name());
    for (NDArray x : List.of(b.m(), b.v(), b.age())) {
      x.set(new NDIndex(":, 2"), 0f);
    }
  }

  /** Host-side bias corrections (the GPU path) against the per-rank path: equal to rounding. */
  @Test
  void uniformPathAgreesWithTheExactOne() {
    AdamW.Settings st = new AdamW.Settings(0.9, 0.999, 1e-8);
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE);
        NDManager cpu = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE);
        AdamW ref = new AdamW(st, m);
        AdamW mine = new AdamW(st, m)) {
      List<TrainableParam> want = params(m, 4);
      List<TrainableParam> got = params(m, 4);
      double[] lrs = {1e-3, 1e-3, 2e-2, 5e-4};
      double[] wds = {0.1, 0.1, 0, 0};
      for (int step = 0; step < 5; step++) {
        try (NDScope scope = new NDScope()) {
          step(ref, want, grads(m, want, step), 0.7, lrs, wds);
          List<NDArray> p = new ArrayList<>();
          List<NDArray> mm = new ArrayList<>();
          List<NDArray> vv = new ArrayList<>();
          List<NDArray> age = new ArrayList<>();
          double[] decays = new double[got.size()];
          int[] ages = new int[got.size()];
          for (int i = 0; i < got.size(); i++) {
            AdamW.Moments s = mine.momentsFor(got.get(i));
            p.add(got.get(i).array());
            mm.add(s.m());
            vv.add(s.v());
            age.add(s.age());
            decays[i] = wds[i] == 0 ? 1 : 1 - lrs[i] * wds[i];
            ages[i] = step;
          }
          fused.updateUniform(
              p,
              grads(m, got, step),
              mm,
              vv,
              age,
              decays,
              lrs,
              ages,
              new MultiTensorAdamW.Hyper(0.7, 0.9, 0.999, 1e-8),
              cpu);
        }
      }
      for (int i = 0; i < want.size(); i++) {
        float[] w = want.get(i).array().toFloatArray();
        float[] g = got.get(i).array().toFloatArray();
        for (int j = 0; j < w.length; j++) {
          assertEquals(w[j], g[j], 1e-6 * Math.max(1, Math.abs(w[j])), want.get(i).name());
        }
        assertArrayEquals(
            ref.moments(want.get(i).name()).age().toFloatArray(),
            mine.moments(got.get(i).name()).age().toFloatArray());
      }
    }
  }

  @Test
  void sumOfSquaresExactOnCpuAndFastPathAgrees() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      List<NDArray> g = grads(m, params(m, 3), 11);
      NDArray want = null;
      for (NDArray x : g) {
        NDArray sq = x.square().sum();
        want = want == null ? sq : want.add(sq);
      }
      assertEquals(want.getFloat(), fused.sumOfSquares(g, false), 0.0, "exact path");
      assertEquals(want.getFloat(), fused.sumOfSquares(g, true), 1e-5 * want.getFloat(), "fast");
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
      fused.zero(List.of(g.get(0)));
      assertArrayEquals(new float[] {0f, 0f}, p.getGradient().toFloatArray());
    }
  }
}
