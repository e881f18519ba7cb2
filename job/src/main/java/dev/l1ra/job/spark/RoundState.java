package dev.l1ra.job.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.LoraAdapter;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.train.AdamW;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The state a round starts from and ends with, as host tensors in {@link AdapterSet#trainable()}
 * order: the adapters' values, then AdamW's first moments, then its second moments (3n tensors for
 * n trainable tensors). The per-rank step counts ("ages") travel beside them, one per tensor.
 */
final class RoundState {
  private RoundState() {}

  /** Values, first moments, second moments; missing moments are created as zeros. */
  static List<float[]> flatten(AdapterSet adapters, AdamW adam) {
    List<TrainableParam> params = adapters.trainable();
    List<float[]> out = new ArrayList<>(3 * params.size());
    params.forEach(p -> out.add(p.array().toFloatArray()));
    params.forEach(p -> out.add(adam.momentsFor(p).m().toFloatArray()));
    params.forEach(p -> out.add(adam.momentsFor(p).v().toFloatArray()));
    return out;
  }

  /** The step count of every rank of each tensor. */
  static List<float[]> ages(AdapterSet adapters, AdamW adam) {
    List<float[]> out = new ArrayList<>();
    adapters.trainable().forEach(p -> out.add(adam.momentsFor(p).age().toFloatArray()));
    return out;
  }

  /**
   * Gives {@code adam} (of the worker's adapters) the moments of {@code state} and the ages.
   *
   * @param state as {@link #flatten}; the values part is not read
   */
  static void restoreMoments(
      List<float[]> state, List<float[]> ages, AdapterSet adapters, AdamW adam) {
    List<TrainableParam> params = adapters.trainable();
    int n = params.size();
    requireLayout(state, ages, n);
    NDManager m = adam.manager();
    for (int i = 0; i < n; i++) {
      TrainableParam p = params.get(i);
      Shape s = p.array().getShape();
      AdamW.Moments next =
          new AdamW.Moments(
              owned(m, state.get(n + i), s),
              owned(m, state.get(2 * n + i), s),
              owned(m, ages.get(i), AdamW.Moments.ageShape(s, p.rankAxis())));
      adam.replace(p.name(), next);
    }
  }

  /**
   * Replaces the driver's values and moments with {@code state} (the round's averaged result) and
   * advances every age by {@code steps}. Rounds run LoRA-form adapters only (AdaLoRA is refused).
   */
  static void replace(List<float[]> state, AdapterSet adapters, AdamW adam, int steps) {
    List<TrainableParam> params = adapters.trainable();
    int n = params.size();
    requireLayout(state, null, n);
    Map<String, NDArray> values = new HashMap<>();
    for (int i = 0; i < n; i++) {
      TrainableParam p = params.get(i);
      Shape s = p.array().getShape();
      NDManager m = p.array().getManager();
      values.put(p.name(), owned(m, state.get(i), s));
      AdamW.Moments old = adam.momentsFor(p);
      NDArray age = old.age().add(steps);
      NDScope.unregister(age);
      adam.replace(
          p.name(),
          new AdamW.Moments(
              owned(adam.manager(), state.get(n + i), s),
              owned(adam.manager(), state.get(2 * n + i), s),
              age));
    }
    for (LoraAdapter l : adapters.loras()) {
      l.set(
          values.get(PeftNames.loraA(l.id())),
          values.get(PeftNames.loraB(l.id())),
          l.gated() ? values.get(PeftNames.gate(l.id())) : null);
    }
  }

  private static void requireLayout(List<float[]> state, List<float[]> ages, int n) {
    if (state.size() != 3 * n || ages != null && ages.size() != n) {
      throw new IllegalStateException(
          "round state has "
              + state.size()
              + " tensors and "
              + (ages == null ? "no" : ages.size())
              + " ages for "
              + n
              + " trainable tensors (expected 3n and n)");
    }
  }

  /** An engine-owned copy outside any scope (it belongs to the adapters or the optimizer). */
  private static NDArray owned(NDManager m, float[] v, Shape s) {
    NDArray x = Ops.engineOwned(m.create(v, s));
    NDScope.unregister(x);
    return x;
  }
}
