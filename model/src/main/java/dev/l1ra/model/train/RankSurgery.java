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
import java.util.Arrays;

/**
 * Applies a {@link RankPlan} to gated LoRA adapters and their optimizer state, on the device: kept
 * ranks keep their values and their Adam moments and step counts (sliced); new ranks get c = 1, a
 * zero row of B (so the model's output does not change at that moment), an A row ~ N(0, (1/r0)²)
 * from our seeded generator, and zero moments with step count 0. Untouched adapters and their state
 * are left as they are. (The reference rebuilds the whole optimizer instead.)
 */
public final class RankSurgery {
  private RankSurgery() {}

  /**
   * @param seed run seed; new A rows depend only on (seed, step, module)
   * @param step the step of the event (1-based)
   * @param initialRanks each adapter's rank at creation (r0): new A rows are drawn N(0, (1/r0)²) as
   *     at creation, whatever the adapter's rank or scaling is now
   * @param rescaleAlpha a resized adapter's scaling becomes alpha/r (alpha/√r with rsLoRA) for its
   *     new rank; B is multiplied by old/new so the output does not change, and B's Adam moments
   *     follow (m by new/old, v by its square: the same gradient history for the rescaled B)
   */
  public static void apply(
      RankPlan plan,
      AdapterSet adapters,
      AdamW adam,
      long seed,
      int step,
      AdapterLayout initialRanks,
      boolean rescaleAlpha) {
    for (RankPlan.Change c : plan.changes()) {
      if (!c.changed()) {
        continue;
      }
      LoraAdapter l = adapters.lora(c.id());
      try (NDScope scope = new NDScope()) {
        resize(l, c, adam, seed, step, initialRanks.get(c.id()).rank());
        if (rescaleAlpha) {
          rescale(l, adam);
        }
      }
    }
  }

  private static void resize(
      LoraAdapter l, RankPlan.Change c, AdamW adam, long seed, int step, int r0) {
    NDManager m = l.a().getManager();
    NDArray keep = m.create(Arrays.stream(c.keep()).asLongStream().toArray());
    int in = l.spec().in();
    int out = l.spec().out();
    int add = c.added();
    NDArray a = rows(l.a(), keep).concat(newRows(m, l, seed, step, add, r0), 0);
    NDArray b = cols(l.b(), keep).concat(m.zeros(new Shape(out, add)), 1);
    NDArray g = l.gated() ? rows(l.gate(), keep).concat(m.ones(new Shape(add)), 0) : null;
    resizeState(adam, PeftNames.loraA(c.id()), keep, add, 0);
    resizeState(adam, PeftNames.loraB(c.id()), keep, add, 1);
    if (g != null) {
      resizeState(adam, PeftNames.gate(c.id()), keep, add, 0);
    }
    keepAlive(a, b, g);
    l.set(a, b, g);
    assert a.getShape().equals(new Shape(c.newRank(), in));
  }

  private static void rescale(LoraAdapter l, AdamW adam) {
    AdapterSpec s = l.spec();
    double r = s.rslora() ? Math.sqrt(s.rank()) : s.rank();
    float k = l.rescale((float) (s.alpha() / r));
    AdamW.Moments st = adam.moments(PeftNames.loraB(s.id()));
    if (st != null && k != 1f) {
      NDArray m = st.m().div(k);
      NDArray v = st.v().div(k * k);
      NDArray age = st.age().duplicate(); // replace() closes the old moments, age included
      keepAlive(m, v, age);
      adam.replace(PeftNames.loraB(s.id()), new AdamW.Moments(m, v, age));
    }
  }

  /** Rows of A drawn as at creation: N(0, (1/r0)²), from (seed, step, module). */
  private static NDArray newRows(NDManager m, LoraAdapter l, long seed, int step, int add, int r0) {
    int in = l.spec().in();
    String name = PeftNames.loraA(l.id()) + "@" + step;
    float[] v = AdapterInit.GAUSSIAN.initA(seed, name, add, in, r0);
    return m.create(v, new Shape(add, in));
  }

  /** Slices moments along the rank axis and appends zero state for the new ranks. */
  private static void resizeState(AdamW adam, String name, NDArray keep, int add, int axis) {
    AdamW.Moments s = adam.moments(name);
    if (s == null) {
      return;
    }
    NDArray mm = grow(select(s.m(), keep, axis), add, axis);
    NDArray vv = grow(select(s.v(), keep, axis), add, axis);
    NDArray age = grow(select(s.age(), keep, axis), add, axis);
    keepAlive(mm, vv, age);
    adam.replace(name, new AdamW.Moments(mm, vv, age));
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
