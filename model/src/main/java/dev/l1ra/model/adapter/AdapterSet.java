package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.model.engine.Ops;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The adapters of a model, keyed by module, in layer then projection order. Owns their arrays. LoRA
 * dropout (probability {@link #dropout()}) is applied by the model to each adapter's input.
 */
public final class AdapterSet implements AutoCloseable {
  private final Map<ModuleId, Adapter> adapters = new TreeMap<>();
  private final double dropout;

  public AdapterSet(Collection<? extends Adapter> adapters, double dropout) {
    for (Adapter a : adapters) {
      if (this.adapters.put(a.id(), a) != null) {
        throw new IllegalArgumentException("two adapters on module " + a.id());
      }
    }
    this.dropout = dropout;
  }

  /**
   * New LoRA adapters for a layout: A from {@code init}, B = 0, and with {@code gated} an L1RA gate
   * c = 1. Arrays are fp32 on the manager's device.
   */
  public static AdapterSet create(
      AdapterLayout layout,
      NDManager manager,
      AdapterInit init,
      long seed,
      boolean gated,
      double dropout) {
    List<Adapter> list = new ArrayList<>();
    for (AdapterSpec s : layout.specs()) {
      float[] a = init.initA(seed, PeftNames.loraA(s.id()), s.rank(), s.in(), s.rank());
      NDArray aa = Ops.engineOwned(manager.create(a, new Shape(s.rank(), s.in())));
      NDArray bb = manager.zeros(new Shape(s.out(), s.rank()));
      NDArray cc = gated ? manager.ones(new Shape(s.rank())) : null;
      list.add(new LoraAdapter(s, aa, bb, cc));
    }
    return new AdapterSet(list, dropout);
  }

  public Optional<Adapter> get(ModuleId id) {
    return Optional.ofNullable(adapters.get(id));
  }

  /** The adapter on a module, or null: the hot path avoids Optional allocation. */
  public Adapter getOrNull(ModuleId id) {
    return adapters.get(id);
  }

  public Collection<Adapter> all() {
    return adapters.values();
  }

  public double dropout() {
    return dropout;
  }

  /** Current layout (ranks change under L1RA). */
  public AdapterLayout layout() {
    return new AdapterLayout(adapters.values().stream().map(Adapter::spec).toList());
  }

  /** The ranks in use (AdaLoRA: unmasked triplets, at least 1), for reports and exports. */
  public AdapterLayout effectiveLayout() {
    return new AdapterLayout(
        adapters.values().stream()
            .map(a -> a.spec().withRank(Math.max(1, a.effectiveRank())))
            .toList());
  }

  /** All trainable leaves, in module order then A, B, (c). */
  public List<TrainableParam> trainable() {
    List<TrainableParam> out = new ArrayList<>();
    adapters.values().forEach(a -> out.addAll(a.trainable()));
    return out;
  }

  /** How to rebuild each adapter, in module order (checkpoints, broadcast). */
  public List<AdapterEntry> entries() {
    return adapters.values().stream().map(Adapter::entry).toList();
  }

  /**
   * The adapters as LoRA adapters, for methods that resize LoRA factors (L1RA).
   *
   * @throws IllegalStateException naming the first adapter of another variant
   */
  public List<LoraAdapter> loras() {
    return typed(LoraAdapter.class, "LoRA");
  }

  /** The LoRA adapter on a module (see {@link #loras()}). */
  public LoraAdapter lora(ModuleId id) {
    Adapter a = adapters.get(id);
    if (a == null) {
      throw new IllegalStateException("no adapter on " + id);
    }
    return only(a, LoraAdapter.class, "LoRA");
  }

  /** The adapters as AdaLoRA adapters, for AdaLoRA's controller (see {@link #loras()}). */
  public List<AdaLoraAdapter> adaLoras() {
    return typed(AdaLoraAdapter.class, "AdaLoRA");
  }

  private <T extends Adapter> List<T> typed(Class<T> type, String what) {
    return adapters.values().stream().map(a -> only(a, type, what)).toList();
  }

  private static <T extends Adapter> T only(Adapter a, Class<T> type, String what) {
    if (!type.isInstance(a)) {
      throw new IllegalStateException(
          "this needs " + what + " adapters; " + a.id() + " has a " + a.entry().variant());
    }
    return type.cast(a);
  }

  @Override
  public void close() {
    adapters.values().forEach(Adapter::close);
    adapters.clear();
  }
}
