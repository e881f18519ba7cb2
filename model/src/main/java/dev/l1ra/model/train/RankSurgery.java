package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.core.plan.RankPlan;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.LoraAdapter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies a {@link RankPlan} to gated LoRA adapters and their optimizer state, on the device: kept
 * ranks keep their values and their Adam moments and step counts (sliced); new ranks get c = 1, a
 * zero row of B (so the model's output does not change at that moment), an A row ~ N(0, (1/r0)²)
 * from our seeded generator, and zero moments with step count 0. Untouched adapters and their state
 * are left as they are. (The reference rebuilds the whole optimizer instead.)
 *
 * <p>All or nothing: the whole plan is checked against the adapters first ({@link
 * InvalidPlanException}, nothing touched), then every resized tensor is computed, and only when all
 * exist are they swapped in. A failure on the way leaves every adapter and moment as it was.
 */
public final class RankSurgery {
  private RankSurgery() {}

  /** The plan does not fit the adapters; checked before any tensor changes. */
  public static final class InvalidPlanException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InvalidPlanException(String message) {
      super(message);
    }
  }

  /**
   * @param seed run seed; new A rows depend only on (seed, step, module)
   * @param step the step of the event (1-based)
   * @param initialRanks each adapter's rank at creation (r0): new A rows are drawn N(0, (1/r0)²) as
   *     at creation, whatever the adapter's rank or scaling is now
   * @param rescaleAlpha a resized adapter's scaling becomes alpha/r (alpha/√r with rsLoRA) for its
   *     new rank; B is multiplied by old/new so the output does not change, and B's Adam moments
   *     follow (m by new/old, v by its square: the same gradient history for the rescaled B)
   * @throws InvalidPlanException naming the module when the plan does not fit (nothing changed)
   */
  public static void apply(
      RankPlan plan,
      AdapterSet adapters,
      AdamW adam,
      long seed,
      int step,
      AdapterLayout initialRanks,
      boolean rescaleAlpha) {
    validate(plan, adapters);
    List<Resized> staged = new ArrayList<>();
    try {
      for (RankPlan.Change c : plan.changes()) {
        if (c.changed()) {
          LoraAdapter l = adapters.lora(c.id());
          int r0 = initialRanks.get(c.id()).rank();
          staged.add(stage(l, c, adam, seed, step, r0, rescaleAlpha));
        }
      }
    } catch (RuntimeException e) {
      staged.forEach(Resized::discard);
      throw e;
    }
    staged.forEach(r -> r.commit(adam));
  }

  /** Every change names an adapter of the set, at its current rank, with kept indices in range. */
  static void validate(RankPlan plan, AdapterSet adapters) {
    for (RankPlan.Change c : plan.changes()) {
      LoraAdapter l;
      try {
        l = adapters.lora(c.id());
      } catch (IllegalStateException e) {
        throw new InvalidPlanException("rank plan names " + c.id() + ": " + e.getMessage());
      }
      int rank = l.spec().rank();
      String where = "rank plan for " + c.id() + " (rank " + rank + "): ";
      if (c.oldRank() != rank) {
        throw new InvalidPlanException(where + "it was made for rank " + c.oldRank());
      }
      int last = -1;
      for (int k : c.keep()) {
        if (k <= last || k >= rank) {
          throw new InvalidPlanException(
              where + "kept indices " + Arrays.toString(c.keep()) + " are not ascending in range");
        }
        last = k;
      }
      if (c.added() < 0 || c.newRank() < 1) {
        throw new InvalidPlanException(
            where + "adds " + c.added() + " and keeps " + c.keep().length + ": new rank < 1");
      }
    }
  }

  /** One adapter's resized tensors and moments, computed but not yet swapped in. */
  private record Resized(
      LoraAdapter adapter,
      NDArray a,
      NDArray b,
      NDArray gate,
      float scaling,
      Map<String, AdamW.Moments> moments) {
    void commit(AdamW adam) {
      adapter.set(a, b, gate, scaling);
      moments.forEach(adam::replace);
    }

    void discard() {
      for (NDArray x : new NDArray[] {a, b, gate}) {
        if (x != null) {
          x.close();
        }
      }
      moments.values().forEach(AdamW.Moments::close);
    }
  }

  private static Resized stage(
      LoraAdapter l,
      RankPlan.Change c,
      AdamW adam,
      long seed,
      int step,
      int r0,
      boolean rescaleAlpha) {
    try (NDScope scope = new NDScope()) {
      NDManager m = l.a().getManager();
      NDArray keep = m.create(Arrays.stream(c.keep()).asLongStream().toArray());
      int add = c.added();
      NDArray a = rows(l.a(), keep).concat(newRows(m, l, seed, step, add, r0), 0);
      NDArray b = cols(l.b(), keep).concat(m.zeros(new Shape(l.spec().out(), add)), 1);
      NDArray g = l.gated() ? rows(l.gate(), keep).concat(m.ones(new Shape(add)), 0) : null;
      Map<String, AdamW.Moments> moments = new LinkedHashMap<>();
      resizeState(adam, PeftNames.loraA(c.id()), keep, add, 0, moments);
      resizeState(adam, PeftNames.loraB(c.id()), keep, add, 1, moments);
      if (g != null) {
        resizeState(adam, PeftNames.gate(c.id()), keep, add, 0, moments);
      }
      float scaling = l.scaling();
      if (rescaleAlpha) {
        scaling = rescaledScaling(l.spec(), c.newRank());
        b = rescale(b, l.scaling() / scaling, PeftNames.loraB(c.id()), moments);
      }
      Resized r = new Resized(l, a, b, g, scaling, moments);
      keepAlive(a, b, g);
      moments.values().forEach(s -> keepAlive(s.m(), s.v(), s.age()));
      return r;
    }
  }

  /** alpha/r (alpha/√r with rsLoRA) at the new rank. */
  private static float rescaledScaling(AdapterSpec s, int rank) {
    double r = s.rslora() ? Math.sqrt(rank) : rank;
    return (float) (s.alpha() / r);
  }

  /** B·k with B's moments following: m / k, v / k² (k = old / new scaling). */
  private static NDArray rescale(
      NDArray b, float k, String name, Map<String, AdamW.Moments> moments) {
    if (k == 1f) {
      return b;
    }
    AdamW.Moments st = moments.get(name);
    if (st != null) {
      moments.put(name, new AdamW.Moments(st.m().div(k), st.v().div(k * k), st.age()));
    }
    return b.mul(k);
  }

  /** Rows of A drawn as at creation: N(0, (1/r0)²), from (seed, step, module). */
  private static NDArray newRows(NDManager m, LoraAdapter l, long seed, int step, int add, int r0) {
    int in = l.spec().in();
    String name = PeftNames.loraA(l.id()) + "@" + step;
    float[] v = AdapterInit.GAUSSIAN.initA(seed, name, add, in, r0);
    return m.create(v, new Shape(add, in));
  }

  /** Moments sliced along the rank axis, with zero state appended for the new ranks. */
  private static void resizeState(
      AdamW adam, String name, NDArray keep, int add, int axis, Map<String, AdamW.Moments> out) {
    AdamW.Moments s = adam.moments(name);
    if (s == null) {
      return;
    }
    NDArray mm = grow(select(s.m(), keep, axis), add, axis);
    NDArray vv = grow(select(s.v(), keep, axis), add, axis);
    NDArray age = grow(select(s.age(), keep, axis), add, axis);
    out.put(name, new AdamW.Moments(mm, vv, age));
  }

  private static NDArray select(NDArray x, NDArray keep, int axis) {
    return axis == 0 ? rows(x, keep) : cols(x, keep);
  }

  private static NDArray rows(NDArray x, NDArray keep) {
    return x.get(keep);
  }

  private static NDArray cols(NDArray x, NDArray keep) {
    return x.get(new NDIndex(":, {}", keep));
  }

  /** Appends {@code add} zero slices along {@code axis}. */
  private static NDArray grow(NDArray x, int add, int axis) {
    if (add == 0) {
      return x;
    }
    long[] dims = x.getShape().getShape().clone();
    dims[axis] = add;
    return x.concat(x.getManager().zeros(new Shape(dims), x.getDataType()), axis);
  }

  /** Results outlive the surgery's scope, in engine memory (reproducible BLAS alignment). */
  private static void keepAlive(NDArray... xs) {
    for (NDArray x : xs) {
      if (x != null) {
        NDScope.unregister(x);
      }
    }
  }
}
