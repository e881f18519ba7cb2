package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.model.adapter.TrainableParam;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with moments we own (DJL's optimizer state is private and cannot be resized), in PyTorch's
 * form: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − (lr/bc1)·m/(√v/√bc2 +
 * ε) with bc = 1 − βᵗ.
 *
 * <p>The step count t is kept per rank (an "age" tensor broadcast along the rank axis), so a rank
 * added by reallocation starts with zero moments and its own bias correction, while surviving ranks
 * keep theirs. Updates are in place, on the parameters' device, outside autograd.
 */
public final class AdamW implements AutoCloseable {

  /** Hyper-parameters of one parameter group at one step. */
  public record GroupStep(double lr, double weightDecay) {}

  private final AdamSettings settings;
  private final NDManager manager;
  private final Map<String, Moments> state = new LinkedHashMap<>();
  private final Map<String, Integer> uniformAge = new HashMap<>();

  public AdamW(AdamSettings settings, NDManager parent) {
    this.settings = settings;
    this.manager = parent.newSubManager();
  }

  public AdamSettings settings() {
    return settings;
  }

  /** Moments of a parameter; the arrays belong to the optimizer. */
  public Moments moments(String name) {
    return state.get(name);
  }

  /** All state, by parameter name (for checkpoints and rank surgery). */
  public Map<String, Moments> state() {
    return state;
  }

  /** The manager the state lives in; rank surgery creates replacement moments here. */
  public NDManager manager() {
    return manager;
  }

  /** The moments of a parameter, created as zeros (step count 0) on first use. */
  public Moments momentsFor(TrainableParam param) {
    return state.computeIfAbsent(
        param.name(),
        n -> {
          uniformAge.put(n, 0);
          return Moments.zeros(manager, param.array().getShape(), param.rankAxis());
        });
  }

  /**
   * The step count shared by every rank of a parameter, or −1 when its ranks differ (ranks added by
   * reallocation) or it has no state: a host-side mirror of the age tensor, so a step can use
   * per-tensor bias corrections without reading the device.
   */
  public int uniformAge(String name) {
    return uniformAge.getOrDefault(name, -1);
  }

  /** Records that one step was applied to every parameter in {@code names}. */
  void stepped(Iterable<String> names) {
    for (String n : names) {
      uniformAge.computeIfPresent(n, (k, t) -> t < 0 ? t : t + 1);
    }
  }

  /**
   * Applies one update to {@code param} with gradient {@code grad} (already unscaled and clipped):
   * the per-tensor reference of the multi-tensor step. Creates zero state on first use.
   */
  public void update(TrainableParam param, NDArray grad, GroupStep hp) {
    NDArray p = param.array();
    Moments s = momentsFor(param);
    if (hp.weightDecay() != 0) {
      p.muli(1 - hp.lr() * hp.weightDecay());
    }
    s.m.muli(settings.beta1()).addi(grad.mul(1 - settings.beta1()));
    s.v.muli(settings.beta2()).addi(grad.square().mul(1 - settings.beta2()));
    s.age.addi(1);
    stepped(List.of(param.name()));
    NDArray bc1 = one(s.age).sub(s.age.mul(Math.log(settings.beta1())).exp()); // 1 − β1^t
    NDArray bc2 = one(s.age).sub(s.age.mul(Math.log(settings.beta2())).exp());
    NDArray denom = s.v.sqrt().div(bc2.sqrt()).add(settings.eps());
    p.subi(s.m.div(denom).div(bc1).mul(hp.lr()));
  }

  private static NDArray one(NDArray like) {
    return like.onesLike();
  }

  /**
   * Replaces the state of a parameter (after rank surgery or a restore); the old arrays are closed.
   * The new step counts are read to the host once to learn whether they are uniform.
   */
  public void replace(String name, Moments next) {
    uniformAge.put(name, uniform(next.age().toFloatArray()));
    Moments old = state.put(name, next);
    if (old != null && old != next) {
      old.close();
    }
  }

  /** The common value of step counts, or −1 when they differ. */
  private static int uniform(float[] ages) {
    for (float a : ages) {
      if (a != ages[0]) {
        return -1;
      }
    }
    return ages.length == 0 ? -1 : (int) ages[0];
  }

  @Override
  public void close() {
    manager.close();
    state.clear();
    uniformAge.clear();
  }

  /**
   * First and second moments and the per-rank step count ("age", broadcastable to the parameter,
   * float32: [r, 1] for A, [1, r] for B, [r] for a gate, [1] when there is no rank axis).
   */
  public record Moments(NDArray m, NDArray v, NDArray age) implements AutoCloseable {
    /** Zero state; the arrays outlive any NDScope that is open (they belong to the optimizer). */
    static Moments zeros(NDManager manager, Shape shape, int rankAxis) {
      Moments s =
          new Moments(
              manager.zeros(shape), manager.zeros(shape), manager.zeros(ageShape(shape, rankAxis)));
      NDScope.unregister(s.m, s.v, s.age);
      return s;
    }

    /** Shape of the age tensor for a parameter shape and its rank axis (−1: none). */
    public static Shape ageShape(Shape shape, int rankAxis) {
      if (rankAxis < 0) {
        return new Shape(1);
      }
      long[] dims = new long[shape.dimension()];
      Arrays.fill(dims, 1);
      dims[rankAxis] = shape.get(rankAxis);
      return new Shape(dims);
    }

    @Override
    public void close() {
      m.close();
      v.close();
      age.close();
    }
  }
}
