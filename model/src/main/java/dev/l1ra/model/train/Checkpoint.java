package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterEntry;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A resumable training checkpoint: adapter weights (gates included), AdamW moments and per-rank
 * step counts, and the trainer's scalar state. Written to a temporary folder and renamed into
 * place, so a crash mid-write leaves the previous checkpoint intact. fp32 bytes are stored exactly,
 * so a resumed CPU run reproduces the uninterrupted one bit for bit.
 *
 * <p>Also the one owner of a run's checkpoint folders: {@code <dir>/step-NNNNNN} holds the state to
 * run from step NNNNNN on ({@link #folder}, {@link #latest}, {@link #prune}).
 */
public final class Checkpoint {
  public static final String TENSORS = "state.safetensors";
  public static final String STATE = "trainer_state.json";

  /** Prefix of a rank controller's tensors in the checkpoint. */
  public static final String CONTROLLER = "controller/";

  private static final String FOLDER = "step-%06d";
  private static final String FOLDER_PATTERN = "step-\\d+";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Checkpoint() {}

  /**
   * Scalar trainer state.
   *
   * @param step the next step to run
   * @param extra free-form state of other components (e.g. allocation history), JSON-compatible
   * @param tokens input tokens trained on up to {@code step}, over all earlier processes of the run
   *     (0 in checkpoints written before it was kept)
   * @param seconds training seconds up to {@code step}, likewise
   * @param fingerprint what the run is and a resumed run may not change ({@code RunFingerprint});
   *     null in checkpoints written before it was kept
   */
  public record State(
      int step,
      double lossScale,
      int lossScaleGoodSteps,
      boolean lossScaling,
      int badSteps,
      double dropout,
      List<AdapterEntry> adapters,
      Map<String, Object> extra,
      long tokens,
      double seconds,
      Map<String, String> fingerprint) {}

  /** The folder of the checkpoint to resume at step {@code next}. */
  public static Path folder(Path dir, int next) {
    return dir.resolve(String.format(FOLDER, next));
  }

  /** The newest complete checkpoint in {@code dir}, if any. */
  public static Optional<Path> latest(Path dir) {
    return complete(dir).stream().max(Comparator.naturalOrder());
  }

  /** Deletes all but the newest {@code keep} checkpoint folders in {@code dir}. */
  public static void prune(Path dir, int keep) {
    List<Path> all = complete(dir);
    for (Path old : all.subList(0, Math.max(0, all.size() - keep))) {
      try {
        AtomicFiles.deleteTree(old);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete old checkpoint " + old + ": " + e, e);
      }
    }
  }

  /** Complete checkpoint folders, oldest first. */
  private static List<Path> complete(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches(FOLDER_PATTERN))
          .filter(p -> Files.isRegularFile(p.resolve(STATE)))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e, e);
    }
  }

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
                  age(read(f, adam.manager(), p.name() + ".age"), p)));
        }
      }
      return set;
    }
  }

  /**
   * A stored step count in the shape the parameter's rank axis asks for: checkpoints written before
   * AdaLoRA's singular values stated their rank axis hold one count, broadcast here.
   */
  private static NDArray age(NDArray stored, TrainableParam p) {
    Shape want = AdamW.Moments.ageShape(p.array().getShape(), p.rankAxis());
    if (stored.getShape().equals(want) || stored.size() != 1) {
      return stored;
    }
    NDArray age = stored.broadcast(want).duplicate();
    NDScope.unregister(age);
    stored.close();
    return age;
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

  /** A stored tensor in engine memory, owned by {@code m} (not by any open scope). */
  private static NDArray read(SafetensorsFile f, NDManager m, String name) {
    NDArray x = Ops.engineOwned(m.create(f.floats(name), new Shape(f.info(name).shape())));
    NDScope.unregister(x);
    return x;
  }

  private static SafetensorsWriter.Tensor f32(NDArray x) {
    ByteBuffer b = ByteBuffer.wrap(x.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    return new SafetensorsWriter.Tensor(DType.F32, x.getShape().getShape(), b);
  }
}
