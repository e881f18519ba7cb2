package dev.l1ra.job.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outer step of rounds mode on the adapters' values (DiLoCo, Douillard et al. 2023, Alg. 1):
 * with the round's averaged change Δ = x̄ − x₀, Nesterov momentum v ← μ·v + Δ and x ← x₀ + η·(Δ +
 * μ·v). η = 1, μ = 0 is plain averaging (x ← x̄) and leaves {@code next} as it is. AdamW's moments
 * are always averaged. The velocity is the driver's state: checkpointed, and reset when ranks move
 * (its entries would no longer match the adapters' ranks).
 */
public final class OuterUpdate implements AutoCloseable {
  private final double lr;
  private final double momentum;
  private final NDManager parent;
  private final Map<String, float[]> velocity = new HashMap<>();
  private NDManager exported;

  /**
   * @param parent where checkpoint tensors are created (the driver's manager)
   */
  public OuterUpdate(double lr, double momentum, NDManager parent) {
    this.lr = lr;
    this.momentum = momentum;
    this.parent = parent;
  }

  /** Whether the update is plain averaging. */
  public boolean averaging() {
    return lr == 1 && momentum == 0;
  }

  /**
   * Replaces the values part of {@code next} (the averaged state, values first in {@link
   * AdapterSet#trainable()} order) by the outer step from {@code start}.
   */
  void apply(AdapterSet adapters, List<float[]> start, List<float[]> next) {
    if (averaging()) {
      return;
    }
    List<TrainableParam> params = adapters.trainable();
    float mu = (float) momentum;
    float eta = (float) lr;
    for (int i = 0; i < params.size(); i++) {
      float[] x0 = start.get(i);
      float[] x = next.get(i);
      float[] v = velocity.computeIfAbsent(params.get(i).name(), k -> new float[x0.length]);
      if (v.length != x0.length) {
        v = new float[x0.length];
        velocity.put(params.get(i).name(), v);
      }
      for (int j = 0; j < x.length; j++) {
        float d = x[j] - x0[j];
        v[j] = mu * v[j] + d;
        x[j] = x0[j] + eta * (d + mu * v[j]);
      }
    }
  }

  /** Forgets the velocity (after ranks moved). */
  void reset() {
    velocity.clear();
  }

  /** The velocity for a checkpoint (arrays valid until the next call). */
  Map<String, NDArray> tensors() {
    if (velocity.isEmpty()) {
      return Map.of();
    }
    close();
    exported = parent.newSubManager();
    Map<String, NDArray> out = new LinkedHashMap<>();
    velocity.forEach((k, v) -> out.put(k, exported.create(v, new Shape(v.length))));
    return out;
  }

  /** Restores {@link #tensors()}. */
  void restore(Map<String, NDArray> tensors) {
    velocity.clear();
    tensors.forEach((k, v) -> velocity.put(k, v.toFloatArray()));
  }

  @Override
  public void close() {
    if (exported != null) {
      exported.close();
      exported = null;
    }
  }
}
