package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.plan.AdaLoraBudget;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AdaLoRA's hooks as multi-tensor kernels equal the per-tensor path bit for bit on the CPU: the
 * orthogonality gradient added to Q's and P's gradients, its value in the step statistics, and the
 * importance averages after several steps.
 */
class AdaLoraKernelsTest {
  @Test
  void kernelsEqualThePerTensorHooks() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      AdapterSet a = adapters(m);
      AdapterSet b = adapters(m);
      AdaLoraController ref = controller(m).perTensor();
      AdaLoraController mine = controller(m);
      for (int step = 0; step < 3; step++) {
        try (NDScope scope = new NDScope()) {
          Map<String, NDArray> ga = grads(a, step);
          Map<String, NDArray> gb = grads(b, step);
          ref.beforeUpdate(a, ga, 4.0);
          mine.beforeUpdate(b, gb, 4.0);
          for (String k : ga.keySet()) {
            assertArrayEquals(ga.get(k).toFloatArray(), gb.get(k).toFloatArray(), k);
          }
          ref.observe(a, ga, 0.25);
          mine.observe(b, gb, 0.25);
          assertArrayEquals(ref.stepStats(a), mine.stepStats(b), "orth value and active rank");
        }
      }
      Map<String, NDArray> ta = ref.tensors();
      Map<String, NDArray> tb = mine.tensors();
      assertEquals(ta.keySet(), tb.keySet());
      for (String k : ta.keySet()) {
        assertArrayEquals(ta.get(k).toFloatArray(), tb.get(k).toFloatArray(), k);
      }
    }
  }

  @Test
  void theGroupedRegulariserEqualsThePerMatrixOneUpToRounding() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      AdapterSet a = manyAdapters(m);
      AdapterSet b = manyAdapters(m);
      AdaLoraController ref = controller(m).perTensor();
      AdaLoraController grouped = controller(m).groupedOrth(true);
      for (int step = 0; step < 2; step++) {
        try (NDScope scope = new NDScope()) {
          Map<String, NDArray> ga = grads(a, step);
          Map<String, NDArray> gb = grads(b, step);
          Map<String, float[]> before = new LinkedHashMap<>();
          ga.forEach((k, v) -> before.put(k, v.toFloatArray()));
          ref.beforeUpdate(a, ga, 4.0);
          grouped.beforeUpdate(b, gb, 4.0);
          for (String k : ga.keySet()) {
            float[] want = ga.get(k).toFloatArray();
            float[] got = gb.get(k).toFloatArray();
            float[] start = before.get(k);
            double change = 0;
            double err = 0;
            for (int i = 0; i < want.length; i++) {
              change = Math.max(change, Math.abs(want[i] - start[i]));
              err = Math.max(err, Math.abs(want[i] - got[i]));
            }
            // the regulariser acts on A and B; E's gradient must stay as it was
            boolean singular = k.endsWith("lora_E");
            assertTrue(
                singular ? change == 0 : change > 1e-4,
                k + ": the regulariser changed it by " + change);
            assertTrue(
                err <= 1e-6 * Math.max(1, change) + 1e-7,
                k + ": off by " + err + " of a change of " + change);
          }
          double want = ref.stepStats(a)[0];
          double got = grouped.stepStats(b)[0];
          assertEquals(want, got, 1e-6 * Math.abs(want), "Σ‖M − I‖ over all matrices");
        }
      }
    }
  }

  @Test
  void maskingWithTheKernelsEqualsThePerTensorPath() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), EngineInfo.ENGINE)) {
      AdapterSet a = manyAdapters(m);
      AdapterSet b = manyAdapters(m);
      AdaLoraBudget budget = new AdaLoraBudget(24, 10, 0, 2, 1, 8);
      AdaLoraController ref =
          new AdaLoraController(budget, 0.85, 0.85, 0.5, m, List.of()).perTensor();
      AdaLoraController mine = new AdaLoraController(budget, 0.85, 0.85, 0.5, m, List.of());
      int masked = 0;
      for (int step = 1; step <= 8; step++) {
        try (NDScope scope = new NDScope()) {
          Map<String, NDArray> ga = grads(a, step);
          Map<String, NDArray> gb = grads(b, step);
          ref.observe(a, ga, 0.25);
          mine.observe(b, gb, 0.25);
          ref.afterStep(step, 8, a, null, 1e-3);
          mine.afterStep(step, 8, b, null, 1e-3);
        }
        for (int i = 0; i < a.adaLoras().size(); i++) {
          AdaLoraAdapter x = a.adaLoras().get(i);
          AdaLoraAdapter y = b.adaLoras().get(i);
          assertArrayEquals(x.mask(), y.mask(), "mask of " + x.id() + " at step " + step);
          assertArrayEquals(x.e().toFloatArray(), y.e().toFloatArray(), "E of " + x.id());
          masked += x.spec().rank() - x.activeRank();
        }
      }
      assertTrue(masked > 0, "the budget masked nothing: the test checks nothing");
      assertEquals(ref.events(), mine.events());
    }
  }

  /** Several adapters of equal and of different shapes (groups of 1 to 4 matrices). */
  private static AdapterSet manyAdapters(NDManager m) {
    List<Adapter> list = new ArrayList<>();
    for (int layer = 0; layer < 3; layer++) {
      list.add(ada(m, layer, LinearKind.Q, 6, 5));
    }
    list.add(ada(m, 0, LinearKind.K, 6, 3));
    list.add(ada(m, 0, LinearKind.DOWN, 7, 6));
    list.add(ada(m, 1, LinearKind.DOWN, 7, 6));
    AdapterSet set = new AdapterSet(list, 0.0);
    for (AdaLoraAdapter a : set.adaLoras()) {
      // E starts at zero (PEFT's init); give it values so that masking changes something
      a.e().addi(m.arange(1f, 5f).mul(0.1f + 0.01f * a.id().layer()));
    }
    return set;
  }

  private static AdaLoraAdapter ada(NDManager m, int layer, LinearKind k, int in, int out) {
    return AdaLoraAdapter.create(
        new AdapterSpec(new ModuleId(layer, k), 4, 8, in, out, false), m, 3);
  }

  private static AdaLoraController controller(NDManager m) {
    return new AdaLoraController(
        new AdaLoraBudget(12, 8, 0, 0, 1, 10), 0.85, 0.85, 0.5, m, List.of());
  }

  private static AdapterSet adapters(NDManager m) {
    List<Adapter> list =
        List.of(
            AdaLoraAdapter.create(
                new AdapterSpec(new ModuleId(0, LinearKind.Q), 4, 8, 6, 5, false), m, 3),
            AdaLoraAdapter.create(
                new AdapterSpec(new ModuleId(1, LinearKind.DOWN), 4, 8, 7, 6, false), m, 3));
    return new AdapterSet(list, 0.0);
  }

  private static Map<String, NDArray> grads(AdapterSet set, int step) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    SplittableRandom r = new SplittableRandom(step);
    for (TrainableParam p : set.trainable()) {
      float[] v = new float[(int) p.array().size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (r.nextDouble() - 0.5);
      }
      out.put(p.name(), p.array().getManager().create(v, p.array().getShape()));
    }
    return out;
  }
}
