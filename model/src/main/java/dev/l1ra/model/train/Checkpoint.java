package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.LoraAdapter;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable training checkpoint: adapter weights (gates included), AdamW moments and per-rank
 * step counts, and the trainer's scalar state. Written to a temporary folder and renamed into
 * place, so a crash mid-write leaves the previous checkpoint intact. fp32 bytes are stored exactly,
 * so a resumed CPU run reproduces the uninterrupted one bit for bit.
 */
public final class Checkpoint {
  public static final String TENSORS = "state.safetensors";
  public static final String STATE = "trainer_state.json";

  /** Prefix of a rank controller's tensors in the checkpoint. */
  public static final String CONTROLLER = "controller/";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Checkpoint() {}

  /**
   * One adapter's variant, shape and fixed scaling.
   *
   * @param variant {@code lora} (gated when {@code gated}) or {@code adalora}
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
      implements java.io.Serializable {
    ModuleId id() {
      return ModuleId.parse(module)
          .orElseThrow(() -> new IllegalStateException("bad module " + module));
    }

    AdapterSpec spec() {
      return new AdapterSpec(id(), rank, alpha, in, out, rslora);
    }

    /** Tensor names in {@link AdapterSet#trainable()} order. */
    List<String> tensors() {
      ModuleId id = id();
      if (variant.equals("adalora")) {
        return List.of(
            PeftNames.loraA(id), PeftNames.loraB(id), PeftNames.PREFIX + id.hfName() + ".lora_E");
      }
      return gated
          ? List.of(PeftNames.loraA(id), PeftNames.loraB(id), PeftNames.gate(id))
          : List.of(PeftNames.loraA(id), PeftNames.loraB(id));
    }

    /** The adapter from its tensors (in {@link #tensors()} order); takes ownership. */
    Adapter adapter(List<NDArray> t) {
      if (variant.equals("adalora")) {
        AdaLoraAdapter a = new AdaLoraAdapter(spec(), t.get(0), t.get(2), t.get(1));
        a.restoreMask(mask);
        return a;
      }
      return LoraAdapter.restore(spec(), scaling, t.get(0), t.get(1), gated ? t.get(2) : null);
    }
  }

  /**
   * Scalar trainer state.
   *
   * @param step the next step to run
   * @param extra free-form state of other components (e.g. allocation history), JSON-compatible
   */
  public record State(
      int step,
      double lossScale,
      int lossScaleGoodSteps,
      boolean lossScaling,
      int badSteps,
      double dropout,
      List<AdapterEntry> adapters,
      Map<String, Object> extra) {}

  /** Writes a checkpoint folder atomically. */
  public static void save(Path dir, AdapterSet adapters, AdamW adam, State state) {
    save(dir, adapters, adam, state, Map.of());
  }

  /** As {@link #save}, with extra named tensors (stored under {@code controller/}). */
  public static void save(
      Path dir, AdapterSet adapters, AdamW adam, State state, Map<String, NDArray> extra) {
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "l1ra-checkpoint");
    extra.forEach((k, v) -> w.put(CONTROLLER + k, f32(v)));
    for (TrainableParam p : adapters.trainable()) {
      w.put(p.name(), f32(p.array()));
      AdamW.Moments m = adam.moments(p.name());
      if (m != null) {
        w.put(p.name() + ".exp_avg", f32(m.m()));
        w.put(p.name() + ".exp_avg_sq", f32(m.v()));
        w.put(p.name() + ".age", f32(m.age()));
      }
    }
    Path tmp = AtomicFiles.tempDirectoryBeside(dir);
    try {
      w.write(tmp.resolve(TENSORS));
      Files.write(tmp.resolve(STATE), JSON.writeValueAsBytes(state));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e, e);
    }
    AtomicFiles.replaceDirectory(tmp, dir);
  }

  /** The adapter entries of an adapter set, for {@link State}. */
  public static List<AdapterEntry> entries(AdapterSet adapters) {
    List<AdapterEntry> out = new ArrayList<>();
    for (Adapter a : adapters.all()) {
      AdapterSpec s = a.spec();
      if (a instanceof AdaLoraAdapter ada) {
        out.add(
            new AdapterEntry(
                "adalora",
                s.id().hfName(),
                s.rank(),
                s.alpha(),
                s.in(),
                s.out(),
                false,
                1f,
                false,
                ada.mask()));
      } else {
        LoraAdapter l = (LoraAdapter) a;
        out.add(
            new AdapterEntry(
                "lora",
                s.id().hfName(),
                s.rank(),
                s.alpha(),
                s.in(),
                s.out(),
                s.rslora(),
                l.scaling(),
                l.gated(),
                null));
      }
    }
    return out;
  }

  /**
   * Builds adapters from entries and fp32 values in {@link AdapterSet#trainable()} order (A, B,
   * then the gate if any, per module): what a Spark task receives from the driver.
   */
  public static AdapterSet build(
      List<AdapterEntry> entries, double dropout, List<float[]> values, NDManager manager) {
    List<Adapter> list = new ArrayList<>();
    int k = 0;
    for (AdapterEntry e : entries) {
      List<NDArray> t = new ArrayList<>();
      for (String name : e.tensors()) {
        t.add(owned(manager, values.get(k++), null));
      }
      list.add(e.adapter(shaped(e, t)));
    }
    if (k != values.size()) {
      throw new IllegalArgumentException(
          "adapter state has " + values.size() + " tensors, the entries need " + k);
    }
    return new AdapterSet(list, dropout);
  }

  /** Gives flat tensors their shapes: A [r, in], B [out, r], gate / E [r]. */
  private static List<NDArray> shaped(AdapterEntry e, List<NDArray> flat) {
    List<NDArray> out = new ArrayList<>();
    out.add(flat.get(0).reshape(e.rank(), e.in()));
    out.add(flat.get(1).reshape(e.out(), e.rank()));
    if (flat.size() > 2) {
      out.add(flat.get(2).reshape(e.rank()));
    }
    for (NDArray x : out) {
      ai.djl.ndarray.NDScope.unregister(x);
    }
    return out;
  }

  private static NDArray owned(NDManager m, float[] v, Shape s) {
    NDArray x = Ops.engineOwned(m.create(v, s == null ? new Shape(v.length) : s));
    ai.djl.ndarray.NDScope.unregister(x);
    return x;
  }

  /** Reads the scalar state of a checkpoint folder. */
  public static State readState(Path dir) {
    try {
      return JSON.readValue(dir.resolve(STATE).toFile(), State.class);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "checkpoint "
              + dir
              + " has no readable "
              + STATE
              + " ("
              + e.getMessage()
              + "); delete the folder to start over",
          e);
    }
  }

  /** Rebuilds the adapters of a checkpoint on a manager, and loads the optimizer moments. */
  public static AdapterSet restore(Path dir, State state, NDManager manager, AdamW adam) {
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(TENSORS))) {
      List<Adapter> list = new ArrayList<>();
      for (AdapterEntry e : state.adapters()) {
        List<NDArray> t = new ArrayList<>();
        for (String name : e.tensors()) {
          t.add(read(f, manager, name));
        }
        list.add(e.adapter(t));
      }
      AdapterSet set = new AdapterSet(list, state.dropout());
      for (TrainableParam p : set.trainable()) {
        if (f.find(p.name() + ".exp_avg").isPresent()) {
          adam.replace(
              p.name(),
              new AdamW.Moments(
                  read(f, adam.manager(), p.name() + ".exp_avg"),
                  read(f, adam.manager(), p.name() + ".exp_avg_sq"),
                  read(f, adam.manager(), p.name() + ".age")));
        }
      }
      return set;
    }
  }

  /** Extra tensors a checkpoint holds under a prefix (e.g. a rank controller's state). */
  public static Map<String, NDArray> readTensors(Path dir, String prefix, NDManager m) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(TENSORS))) {
      for (String n : f.names()) {
        if (n.startsWith(prefix)) {
          out.put(n.substring(prefix.length()), read(f, m, n));
        }
      }
    }
    return out;
  }

  private static NDArray read(SafetensorsFile f, NDManager m, String name) {
    return owned(m, f.floats(name), new Shape(f.info(name).shape()));
  }

  private static SafetensorsWriter.Tensor f32(NDArray x) {
    ByteBuffer b = ByteBuffer.wrap(x.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    return new SafetensorsWriter.Tensor(DType.F32, x.getShape().getShape(), b);
  }

  /** Free-form extra map helper. */
  public static Map<String, Object> extra() {
    return new LinkedHashMap<>();
  }
}
