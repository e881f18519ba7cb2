package dev.l1ra.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.TensorInfo;
import dev.l1ra.model.llama.Batch;
import java.nio.file.Path;
import java.util.Arrays;

/** Reads a fixture's {@code expected.safetensors} into arrays and host values. */
public final class Expected implements AutoCloseable {
  private final SafetensorsFile file;

  public Expected(Path path) {
    this.file = SafetensorsFile.open(path);
  }

  public SafetensorsFile file() {
    return file;
  }

  public NDArray array(NDManager m, String name) {
    TensorInfo info = file.info(name);
    return m.create(file.floats(name), new Shape(info.shape()));
  }

  public float scalar(String name) {
    return file.floats(name)[0];
  }

  /** [B][T] values of an int64 tensor. */
  public long[][] longs2d(String name) {
    TensorInfo info = file.info(name);
    long[] flat = file.longs(name);
    int b = (int) info.shape()[0];
    int t = (int) info.shape()[1];
    long[][] out = new long[b][t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * t, out[i], 0, t);
    }
    return out;
  }

  /** The fixture batch (input_ids + attention_mask). */
  public Batch batch(NDManager m) {
    long[][] ids = longs2d("input_ids");
    long[][] mask = longs2d("attention_mask");
    int[][] keep = new int[mask.length][];
    for (int i = 0; i < mask.length; i++) {
      keep[i] = Arrays.stream(mask[i]).mapToInt(v -> (int) v).toArray();
    }
    return Batch.of(m, ids, keep);
  }

  /** Max |a - b| over all elements. */
  public static float maxAbsDiff(NDArray a, NDArray b) {
    return a.sub(b).abs().max().getFloat();
  }

  @Override
  public void close() {
    file.close();
  }
}
