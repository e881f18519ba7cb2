package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
