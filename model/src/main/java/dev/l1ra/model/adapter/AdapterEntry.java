package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import java.io.Serializable;
import java.util.List;

/**
 * What it takes to rebuild one adapter from its tensors: the variant, the module, its shape and
 * fixed scaling. Checkpoints store it as JSON (the component names are the file format) and the
 * driver broadcasts it with the adapter values; each adapter class writes its own ({@link
 * Adapter#entry()}).
 *
 * @param variant {@code lora} (with an L1RA gate when {@code gated}) or {@code adalora}
 * @param scaling the LoRA scaling in use (it stops being alpha/r after rank changes); 1 for AdaLoRA
 * @param mask AdaLoRA's active triplets, null for LoRA
 */
public record AdapterEntry(
    String variant,
    String module,
    int rank,
    double alpha,
    int in,
    int out,
    boolean rslora,
    float scaling,
    boolean gated,
    boolean[] mask)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  static final String LORA = "lora";
  static final String ADALORA = "adalora";

  public ModuleId id() {
    return ModuleId.parse(module)
        .orElseThrow(() -> new IllegalStateException("adapter entry names a bad module " + module));
  }

  public AdapterSpec spec() {
    return new AdapterSpec(id(), rank, alpha, in, out, rslora);
  }

  /** Tensor names in {@link Adapter#trainable()} order. */
  public List<String> tensors() {
    return shapes().stream().map(NamedShape::name).toList();
  }

  /** A tensor's name and shape. */
  public record NamedShape(String name, Shape shape) {}

  /** Names and shapes of the tensors in {@link Adapter#trainable()} order. */
  public List<NamedShape> shapes() {
    ModuleId id = id();
    NamedShape a = new NamedShape(PeftNames.loraA(id), new Shape(rank, in));
    NamedShape b = new NamedShape(PeftNames.loraB(id), new Shape(out, rank));
    if (variant.equals(ADALORA)) {
      return List.of(a, b, new NamedShape(AdaLoraAdapter.singularName(id), new Shape(rank)));
    }
    if (!variant.equals(LORA)) {
      throw new IllegalStateException(
          "adapter entry for " + module + " has unknown variant \"" + variant + "\"");
    }
    return gated
        ? List.of(a, b, new NamedShape(PeftNames.gate(id), new Shape(rank)))
        : List.of(a, b);
  }

  /** The adapter from its fp32 tensors (in {@link #tensors()} order); takes ownership. */
  public Adapter adapter(List<NDArray> t) {
    if (variant.equals(ADALORA)) {
      AdaLoraAdapter a = new AdaLoraAdapter(spec(), t.get(0), t.get(2), t.get(1));
      a.restoreMask(mask);
      return a;
    }
    return LoraAdapter.restore(spec(), scaling, t.get(0), t.get(1), gated ? t.get(2) : null);
  }
}
