package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import java.util.ArrayList;
import java.util.List;

/**
 * LoRA on one linear module: y = W·x + s·B·diag(c)·A·x, with A [r, in], B [out, r] and the optional
 * L1RA gate c [r] (null for plain LoRA). Scaling s = alpha/r0 (or alpha/sqrt(r0) with rsLoRA) is
 * set when the adapter is created; rank changes keep it (as the L1RA reference does) unless {@link
 * #rescale} is called (l1ra.rescale_alpha). Master weights are fp32 leaves; in fp16 compute they
 * are cast inside the graph.
 */
public final class LoraAdapter implements Adapter {
  private AdapterSpec spec;
  private float scaling;
  private NDArray a;
  private NDArray b;
  private NDArray c;

  /**
   * Takes ownership of fp32 arrays a [r, in], b [out, r] and optional c [r], and marks them
   * trainable.
   */
  public LoraAdapter(AdapterSpec spec, NDArray a, NDArray b, NDArray c) {
    this(spec, (float) spec.scaling(), a, b, c);
  }

  /**
   * Restores an adapter with the scaling it was created with (checkpoints: after rank changes the
   * scaling no longer equals the spec's alpha/r).
   */
  public static LoraAdapter restore(
      AdapterSpec spec, float scaling, NDArray a, NDArray b, NDArray c) {
    return new LoraAdapter(spec, scaling, a, b, c);
  }

  private LoraAdapter(AdapterSpec spec, float scaling, NDArray a, NDArray b, NDArray c) {
    this.spec = spec;
    this.scaling = scaling;
    set(a, b, c);
  }

  /**
   * Replaces the tensors (after a rank change); the old ones are closed. The scaling stays the one
   * fixed at creation.
   */
  public void set(NDArray newA, NDArray newB, NDArray newC) {
    int r = (int) newA.getShape().get(0);
    check(newA, r, spec.in(), "lora_A");
    check(newB, spec.out(), r, "lora_B");
    if (newC != null && newC.getShape().get(0) != r) {
      throw new IllegalArgumentException(
          spec.id() + ": gate length " + newC.getShape() + " != rank " + r);
    }
    closeIfReplaced(a, newA);
    closeIfReplaced(b, newB);
    closeIfReplaced(c, newC);
    a = newA;
    b = newB;
    c = newC;
    a.setRequiresGradient(true);
    b.setRequiresGradient(true);
    if (c != null) {
      c.setRequiresGradient(true);
    }
    spec = spec.withRank(r);
  }

  /**
   * Replaces the tensors and the scaling together (a rank change with l1ra.rescale_alpha: B is
   * already multiplied by old/new scaling); the old tensors are closed.
   */
  public void set(NDArray newA, NDArray newB, NDArray newC, float newScaling) {
    if (!(newScaling > 0) || !Float.isFinite(newScaling)) {
      throw new IllegalArgumentException(
          spec.id() + ": scaling must be finite and > 0, got " + newScaling);
    }
    set(newA, newB, newC);
    scaling = newScaling;
  }

  private static void closeIfReplaced(NDArray old, NDArray next) {
    if (old != null && old != next) {
      old.close();
    }
  }

  private void check(NDArray x, long rows, long cols, String what) {
    if (x.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(spec.id() + ": " + what + " must be fp32 master weights");
    }
    if (x.getShape().dimension() != 2
        || x.getShape().get(0) != rows
        || x.getShape().get(1) != cols) {
      throw new IllegalArgumentException(
          spec.id()
              + ": "
              + what
              + " has shape "
              + x.getShape()
              + ", expected ("
              + rows
              + ", "
              + cols
              + ")");
    }
  }

  @Override
  public ModuleId id() {
    return spec.id();
  }

  @Override
  public AdapterSpec spec() {
    return spec;
  }

  public float scaling() {
    return scaling;
  }

  /**
   * Changes the scaling to {@code s} and multiplies B by old/new, so ΔW (and the model's output) is
   * unchanged. Returns that factor (the caller rescales B's optimizer state with it).
   */
  public float rescale(float s) {
    if (!(s > 0) || !Float.isFinite(s)) {
      throw new IllegalArgumentException(spec.id() + ": scaling must be finite and > 0, got " + s);
    }
    float k = scaling / s;
    NDArray scaled = b.mul(k);
    NDScope.unregister(scaled);
    set(a, scaled, c);
    scaling = s;
    return k;
  }

  public NDArray a() {
    return a;
  }

  public NDArray b() {
    return b;
  }

  /** The L1RA gate, or null for plain LoRA. */
  @Override
  public NDArray gate() {
    return c;
  }

  public boolean gated() {
    return c != null;
  }

  @Override
  public NDArray down() {
    return a;
  }

  /** The gate c, or null for plain LoRA. */
  @Override
  public NDArray mid() {
    return c;
  }

  @Override
  public NDArray up() {
    return b;
  }

  @Override
  public float scale() {
    return scaling;
  }

  @Override
  public List<TrainableParam> trainable() {
    List<TrainableParam> out = new ArrayList<>(3);
    out.add(new TrainableParam(PeftNames.loraA(id()), a, ParamGroup.MATRIX, 0));
    out.add(new TrainableParam(PeftNames.loraB(id()), b, ParamGroup.MATRIX, 1));
    if (c != null) {
      out.add(new TrainableParam(PeftNames.gate(id()), c, ParamGroup.GATE, 0));
    }
    return out;
  }

  @Override
  public AdapterEntry entry() {
    AdapterSpec s = spec;
    return new AdapterEntry(
        AdapterEntry.LORA,
        s.id().hfName(),
        s.rank(),
        s.alpha(),
        s.in(),
        s.out(),
        s.rslora(),
        scaling,
        c != null,
        null);
  }

  @Override
  public LoraAdapter asLora(NDManager manager) {
    return this;
  }

  /** B·diag(c) (or B), the up-projection with the gate folded in: what PEFT's lora_B holds. */
  public NDArray foldedB() {
    return c == null ? b.duplicate() : b.mul(c.reshape(1, -1));
  }

  @Override
  public NDArray mergedWeight() {
    try (NDArray fb = foldedB()) {
      return fb.matMul(a).mul(scaling);
    }
  }

  @Override
  public void close() {
    a.close();
    b.close();
    if (c != null) {
      c.close();
    }
  }
}
