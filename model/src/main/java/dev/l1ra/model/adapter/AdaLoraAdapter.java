package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.model.engine.Ops;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * AdaLoRA's SVD-form adapter as PEFT's {@code SVDLinear}: ΔW = P·diag(E)·Q · scaling/(ranknum +
 * 1e-5), with Q = lora_A [r, in], E = lora_E [r] (singular values, start at 0), P = lora_B [out,
 * r], scaling = lora_alpha and ranknum = the initial rank (PEFT keeps it fixed). Ranks are pruned
 * by zeroing entries of E (a mask); tensors keep their initial rank during training.
 */
public final class AdaLoraAdapter implements Adapter {
  private final AdapterSpec spec;
  private final NDArray a;
  private final NDArray e;
  private final NDArray b;
  private final float factor;
  private final boolean[] active;

  /** New adapter: A and B ~ N(0, 0.02²) from our seeded generator, E = 0 (PEFT's init). */
  public static AdaLoraAdapter create(AdapterSpec spec, NDManager m, long seed) {
    int r = spec.rank();
    NDArray a =
        Ops.engineOwned(
            m.create(
                normal(seed, PeftNames.loraA(spec.id()), r * spec.in()), new Shape(r, spec.in())));
    NDArray b =
        Ops.engineOwned(
            m.create(
                normal(seed, PeftNames.loraB(spec.id()), spec.out() * r),
                new Shape(spec.out(), r)));
    return new AdaLoraAdapter(spec, a, m.zeros(new Shape(r)), b);
  }

  private static float[] normal(long seed, String name, int n) {
    Random rng = AdapterInit.rng(seed, name);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rng.nextGaussian() * 0.02);
    }
    return v;
  }

  public AdaLoraAdapter(AdapterSpec spec, NDArray a, NDArray e, NDArray b) {
    this.spec = spec;
    this.a = a;
    this.e = e;
    this.b = b;
    this.factor = (float) (spec.alpha() / (spec.rank() + 1e-5));
    this.active = new boolean[spec.rank()];
    Arrays.fill(active, true);
    for (NDArray x : List.of(a, e, b)) {
      x.setRequiresGradient(true);
    }
  }

  @Override
  public ModuleId id() {
    return spec.id();
  }

  /** The spec at the initial rank; {@link #activeRank()} counts unmasked triplets. */
  @Override
  public AdapterSpec spec() {
    return spec;
  }

  @Override
  public int effectiveRank() {
    return activeRank();
  }

  public int activeRank() {
    int n = 0;
    for (boolean x : active) {
      n += x ? 1 : 0;
    }
    return n;
  }

  public boolean[] mask() {
    return active.clone();
  }

  public NDArray a() {
    return a;
  }

  public NDArray e() {
    return e;
  }

  public NDArray b() {
    return b;
  }

  /** Restores a saved mask (null: all active) without touching E. */
  public void restoreMask(boolean[] mask) {
    if (mask != null) {
      System.arraycopy(mask, 0, active, 0, active.length);
    }
  }

  /** Sets the mask and zeroes the masked singular values in place (PEFT's masked_fill_). */
  public void applyMask(boolean[] keep) {
    System.arraycopy(keep, 0, active, 0, active.length);
    float[] m = new float[keep.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = keep[i] ? 1f : 0f;
    }
    try (NDArray mm = e.getManager().create(m)) {
      e.muli(mm);
    }
  }

  @Override
  public NDArray down() {
    return a;
  }

  /** The singular values E. */
  @Override
  public NDArray mid() {
    return e;
  }

  @Override
  public NDArray up() {
    return b;
  }

  /** lora_alpha / (ranknum + 1e-5), PEFT's scaling of SVDLinear. */
  @Override
  public float scale() {
    return factor;
  }

  /** Separate matmuls per module, as PEFT's SVDLinear computes them. */
  @Override
  public boolean batchesDown() {
    return false;
  }

  @Override
  public List<TrainableParam> trainable() {
    return List.of(
        new TrainableParam(PeftNames.loraA(spec.id()), a, ParamGroup.MATRIX, 0),
        new TrainableParam(PeftNames.loraB(spec.id()), b, ParamGroup.MATRIX, 1),
        new TrainableParam(singularName(spec.id()), e, ParamGroup.SINGULAR, 0));
  }

  /** The PEFT name of the singular values E of a module. */
  static String singularName(ModuleId id) {
    return PeftNames.PREFIX + id.hfName() + ".lora_E";
  }

  @Override
  public AdapterEntry entry() {
    return new AdapterEntry(
        AdapterEntry.ADALORA,
        spec.id().hfName(),
        spec.rank(),
        spec.alpha(),
        spec.in(),
        spec.out(),
        false,
        1f,
        false,
        mask());
  }

  @Override
  public LoraAdapter asLora(NDManager manager) {
    return toLora(manager);
  }

  @Override
  public NDArray mergedWeight() {
    return b.mul(e.reshape(1, -1)).matMul(a).mul(factor);
  }

  /**
   * The active triplets as plain LoRA for export: A' = Q[keep], B' = P[:,
   * keep]·diag(E[keep])·factor, with scaling 1 (alpha = rank), so PEFT computes exactly this ΔW.
   */
  LoraAdapter toLora(NDManager m) {
    int[] keep = IntStream.range(0, active.length).filter(i -> active[i]).toArray();
    if (keep.length == 0) {
      keep = new int[] {0}; // PEFT needs r >= 1; E[0] is 0 here, so the delta stays zero
    }
    NDArray idx = m.create(Arrays.stream(keep).asLongStream().toArray());
    NDArray a2 = a.get(idx).duplicate();
    NDArray e2 = e.get(idx);
    NDArray b2 = b.get(new NDIndex(":, {}", idx)).mul(e2.reshape(1, -1)).mul(factor);
    AdapterSpec s =
        new AdapterSpec(spec.id(), keep.length, keep.length, spec.in(), spec.out(), false);
    return LoraAdapter.restore(s, 1f, a2, b2, null);
  }

  @Override
  public void close() {
    a.close();
    e.close();
    b.close();
  }
}
