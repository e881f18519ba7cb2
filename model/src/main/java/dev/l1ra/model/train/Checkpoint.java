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

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Checkpoint() {}

  /** One adapter's shape and fixed scaling. */
  public record AdapterEntry(
      String module,
      int rank,
      double alpha,
      int in,
      int out,
      boolean rslora,
      float scaling,
      boolean gated)
      implements java.io.Serializable {}

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
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "l1ra-checkpoint");
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
      LoraAdapter l = (LoraAdapter) a;
      AdapterSpec s = l.spec();
      out.add(
          new AdapterEntry(
              s.id().hfName(),
              s.rank(),
              s.alpha(),
              s.in(),
              s.out(),
              s.rslora(),
              l.scaling(),
              l.gated()));
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
      ModuleId id =
          ModuleId.parse(e.module())
              .orElseThrow(() -> new IllegalStateException("bad module " + e.module()));
      AdapterSpec spec = new AdapterSpec(id, e.rank(), e.alpha(), e.in(), e.out(), e.rslora());
      NDArray a = owned(manager, values.get(k++), new Shape(e.rank(), e.in()));
      NDArray b = owned(manager, values.get(k++), new Shape(e.out(), e.rank()));
      NDArray c = e.gated() ? owned(manager, values.get(k++), new Shape(e.rank())) : null;
      list.add(LoraAdapter.restore(spec, e.scaling(), a, b, c));
    }
    if (k != values.size()) {
      throw new IllegalArgumentException(
          "adapter state has " + values.size() + " tensors, the entries need " + k);
    }
    return new AdapterSet(list, dropout);
  }

  private static NDArray owned(NDManager m, float[] v, Shape s) {
    NDArray x = Ops.engineOwned(m.create(v, s));
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
    List<Adapter> list = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(TENSORS))) {
      for (AdapterEntry e : state.adapters()) {
        ModuleId id =
            ModuleId.parse(e.module())
                .orElseThrow(() -> new IllegalStateException("bad module " + e.module()));
        AdapterSpec spec = new AdapterSpec(id, e.rank(), e.alpha(), e.in(), e.out(), e.rslora());
        NDArray a = read(f, manager, PeftNames.loraA(id));
        NDArray b = read(f, manager, PeftNames.loraB(id));
        NDArray c = e.gated() ? read(f, manager, PeftNames.gate(id)) : null;
        list.add(LoraAdapter.restore(spec, e.scaling(), a, b, c));
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
