package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.llama.AttentionMask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat over repeated fused forward/backward calls when each iteration runs in
 * its own NDScope: the TorchScript call, its IValues and the per-mask derived array must not leak.
 * One iteration allocates about 6 MB (q, k, v, output, gradients, masks), so a per-call leak would
 * add about 300 MB over 50 iterations; the bound is 48 MB of RSS growth.
 */
class FusedMemoryTest {
  static final int WARMUP = 10;
  static final int ITERATIONS = 50;
  static final long BOUND_BYTES = 48L << 20;
  static final Path STATM = Path.of("/proc/self/statm");

  @Test
  void repeatedForwardBackwardDoesNotGrowRss() {
    assumeTrue(Files.isReadable(STATM), "needs Linux /proc/self/statm");
    int b = 2;
    int h = 8;
    int kv = 2;
    int t = 256;
    int d = 64;
    try (FusedAttention fused = FusedAttention.load(Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray keep = m.ones(new Shape(b, t), DataType.INT32);
      keep.set(new NDIndex("1, :16"), 0); // row 1: 16 leading pads
      long before = 0;
      for (int i = 0; i < WARMUP + ITERATIONS; i++) {
        if (i == WARMUP) {
          before = rssBytes();
        }
        try (NDScope scope = new NDScope()) {
          // alternate the masked and the causal path; a fresh mask object each iteration
          NDArray k0 = i % 2 == 0 ? keep : null;
          AttentionMask mask = AttentionMask.build(m, b, t, k0, null, 0, DataType.FLOAT32);
          NDArray q = values(m, new Shape(b, h, t, d), 0.31f + i);
          NDArray k = values(m, new Shape(b, kv, t, d), 0.57f + i);
          NDArray v = values(m, new Shape(b, kv, t, d), 0.73f + i);
          q.setRequiresGradient(true);
          k.setRequiresGradient(true);
          v.setRequiresGradient(true);
          try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(fused.attend(q, k, v, mask).sum());
          }
          q.getGradient().sum().getFloat();
        }
      }
      long growth = rssBytes() - before;
      System.out.printf(
          "fused: RSS growth over %d scoped forward/backward calls: %.1f MB (manager holds %d)%n",
          ITERATIONS, growth / 1048576.0, m.getManagedArrays().size());
      assertTrue(growth < BOUND_BYTES, "RSS grew by " + (growth >> 20) + " MB");
      assertTrue(m.getManagedArrays().size() <= 2, "only keep (and nothing per call) remains");
    }
  }

  /** Deterministic values in [-1, 1] without the engine's JVM-wide RNG. */
  private static NDArray values(NDManager m, Shape shape, float step) {
    return m.arange(0f, (float) shape.size()).mul(step).sin().reshape(shape);
  }

  /** Resident set size: the second field of /proc/self/statm, in pages of 4 KiB. */
  private static long rssBytes() {
    try {
      String[] f = Files.readString(STATM).trim().split("\\s+");
      return Long.parseLong(f[1]) * 4096L;
    } catch (IOException e) {
      throw new AssertionError("cannot read " + STATM, e);
    }
  }
}
