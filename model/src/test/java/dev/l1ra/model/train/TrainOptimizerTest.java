package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.fused.MultiTensorAdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The multi-tensor optimizer step against the per-tensor reference ({@link AdamW#update}, the gate
 * rule tensor by tensor): bit for bit on the CPU on the per-rank path, and to float rounding on the
 * uniform-age path GPUs take; over gated adapters of different shapes, weight decay on the matrices
 * and not the gates, gradients given on the host or read from the parameters, and a rank that
 * restarts its step count mid-run (as after an L1RA reallocation).
 */
class TrainOptimizerTest {
  private static final TrainOptimizer.Hyper HP =
      new TrainOptimizer.Hyper(3e-3, 0.1, 0.5, new GateRule(2e-2, 0.5, false));

  @Test
  void perRankPathIsBitwiseTheReference() {
    compare(false, true, 0.0);
  }

  @Test
  void gradientsReadFromTheParametersGiveTheSameStep() {
    compare(false, false, 0.0);
  }

  @Test
  void uniformPathAgreesWithTheReferenceToRounding() {
    compare(true, true, 2e-6);
  }

  private static void compare(boolean uniform, boolean hostGrads, double tol) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE);
        TrainOptimizer ref = new TrainOptimizer(AdamSettings.defaults(), m, Optional.empty());
        TrainOptimizer mine =
            new TrainOptimizer(AdamSettings.defaults(), m, MultiTensorAdamW.shared(Device.cpu()))
                .uniformBiasCorrection(uniform)) {
      assertTrue(mine.multiTensor(), "the multi-tensor kernels did not load");
      AdapterSet want = adapters(m);
      AdapterSet got = adapters(m);
      for (int step = 0; step < 7; step++) {
        if (step == 4) {
          restartRank(ref.adam(), want);
          restartRank(mine.adam(), got);
        }
        try (NDScope scope = new NDScope()) {
          TrainOptimizer.Outcome a = ref.step(want, grads(want, step), 2.0, HP);
          TrainOptimizer.Outcome b;
          if (hostGrads) {
            b = mine.step(got, grads(got, step), 2.0, HP);
          } else {
            accumulate(got, step);
            b = mine.step(got, null, 2.0, HP);
            TrainOptimizer.zeroGrad(got);
          }
          assertEquals(a.gradNorm(), b.gradNorm(), tol == 0 ? 0 : 1e-5 * a.gradNorm(), "norm");
        }
      }
      List<TrainableParam> w = want.trainable();
      List<TrainableParam> g = got.trainable();
      for (int i = 0; i < w.size(); i++) {
        float[] x = w.get(i).array().toFloatArray();
        float[] y = g.get(i).array().toFloatArray();
        if (tol == 0) {
          assertArrayEquals(x, y, w.get(i).name());
        } else {
          for (int j = 0; j < x.length; j++) {
            assertEquals(x[j], y[j], tol * Math.max(1, Math.abs(x[j])), w.get(i).name());
          }
        }
        assertArrayEquals(
            ref.adam().moments(w.get(i).name()).age().toFloatArray(),
            mine.adam().moments(g.get(i).name()).age().toFloatArray(),
            "ages");
      }
    }
  }

  /** Gated LoRA on two modules of different shapes, B nonzero. */
  private static AdapterSet adapters(NDManager m) {
    AdapterLayout layout =
        new AdapterLayout(
            List.of(
                new AdapterSpec(new ModuleId(0, LinearKind.Q), 3, 6, 5, 4, false),
                new AdapterSpec(new ModuleId(0, LinearKind.DOWN), 2, 4, 7, 5, false)));
    AdapterSet set = AdapterSet.create(layout, m, AdapterInit.GAUSSIAN, 3, true, 0.0);
    set.all().forEach(a -> a.up().addi(0.1f));
    return set;
  }

  /** Deterministic gradients per step, as host-given arrays. */
  private static Map<String, NDArray> grads(AdapterSet set, int step) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    SplittableRandom r = new SplittableRandom(step);
    for (TrainableParam p : set.trainable()) {
      float[] v = new float[(int) p.array().size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (r.nextDouble() * 2 - 1);
      }
      out.put(p.name(), p.array().getManager().create(v, p.array().getShape()));
    }
    return out;
  }

  /** The same gradients accumulated into the parameters' .grad by a backward. */
  private static void accumulate(AdapterSet set, int step) {
    Map<String, NDArray> g = grads(set, step);
    try (GradientCollector gc = EngineInfo.engine().newGradientCollector()) {
      NDArray loss = null;
      for (TrainableParam p : set.trainable()) {
        NDArray term = p.array().mul(g.get(p.name())).sum();
        loss = loss == null ? term : loss.add(term);
      }
      gc.backward(loss);
    }
  }

  /** Rank 1 of q's A (a row) and its gate restart with zero state, as rank surgery leaves them. */
  private static void restartRank(AdamW adam, AdapterSet set) {
    for (TrainableParam p : set.trainable()) {
      if (p.name().contains("q_proj") && p.rankAxis() == 0) {
        AdamW.Moments s = adam.moments(p.name());
        AdamW.Moments fresh =
            new AdamW.Moments(s.m().duplicate(), s.v().duplicate(), s.age().duplicate());
        for (NDArray x : List.of(fresh.m(), fresh.v(), fresh.age())) {
          x.set(new NDIndex("1"), 0f);
          NDScope.unregister(x);
        }
        adam.replace(p.name(), fresh);
      }
    }
  }
}
