package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.AttentionMask;
import dev.l1ra.model.llama.PlainAttention;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fused vs plain attention, fp32 on CPU, for both ways of handing grouped-query heads to the
 * kernel: outputs, and the gradients with respect to q, k and v of a weighted sum of the output,
 * under causal, padded, packed and sliding-window masks.
 *
 * <p>Rows compared: every query row that sees at least one key, which includes trailing padding and
 * every row of causal and packed masks. A fully masked row (a leading padding token) is left out of
 * the output comparison and its output gets weight 0 in the loss, as in training where no loss
 * reads padding: the plain kernel gives such a row uniform weights, the fused one opens the row (as
 * transformers does before SDPA). Every gradient entry is compared.
 */
class FusedAttentionTest {
  static final float TOL = 1e-5f;
  static final int B = 2;
  static final int H = 4;
  static final int KV = 2;
  static final int T = 12;
  static final int D = 16;

  static NDManager manager;
  static FusedAttention fused; // grouped heads AUTO: k/v repeated on CPU
  static FusedAttention fusedNative; // enable_gqa on the original k/v (the GPU path)

  @BeforeAll
  static void load() {
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
    fused = FusedAttention.load(Device.cpu());
    fusedNative =
        FusedAttention.load(
            Device.cpu(), TorchScriptArchive.defaultCacheDir(), FusedAttention.GroupedHeads.NATIVE);
  }

  @AfterAll
  static void close() {
    fused.close();
    fusedNative.close();
    manager.close();
  }

  /** What one kernel produced: output and leaf gradients, copied to the host. */
  record Run(float[] out, float[] dq, float[] dk, float[] dv) {}

  @Test
  void causal() {
    AttentionMask mask = AttentionMask.build(manager, B, T, null, null, 0, DataType.FLOAT32);
    assertTrue(fused.isCausalOnly(mask), "an all-real, unpacked batch takes the causal path");
    compare("causal", mask, H, KV);
  }

  @Test
  void causalWithoutGroupedHeads() {
    AttentionMask mask = AttentionMask.build(manager, B, T, null, null, 0, DataType.FLOAT32);
    compare("causal MHA", mask, H, H);
  }

  @Test
  void paddedLeftAndRight() {
    int[] keep = new int[B * T];
    for (int j = 0; j < T; j++) {
      keep[j] = j < T - 4 ? 1 : 0; // row 0: 4 trailing pads
      keep[T + j] = j < 3 ? 0 : 1; // row 1: 3 leading pads (fully masked query rows)
    }
    NDArray k = manager.create(keep, new Shape(B, T));
    AttentionMask mask = AttentionMask.build(manager, B, T, k, null, 0, DataType.FLOAT32);
    assertFalse(fused.isCausalOnly(mask));
    compare("padded", mask, H, KV);
  }

  @Test
  void packedSegments() {
    int[] seg = new int[B * T];
    for (int j = 0; j < T; j++) {
      seg[j] = j < 5 ? 0 : 1; // row 0: two samples
      seg[T + j] = j < 3 ? 0 : j < 7 ? 1 : 2; // row 1: three samples
    }
    NDArray s = manager.create(seg, new Shape(B, T));
    AttentionMask mask = AttentionMask.build(manager, B, T, null, s, 0, DataType.FLOAT32);
    assertFalse(fused.isCausalOnly(mask));
    compare("packed", mask, H, KV);
  }

  @Test
  void packedAndPadded() {
    int[] seg = new int[B * T];
    int[] keep = new int[B * T];
    for (int j = 0; j < T; j++) {
      seg[j] = j < 6 ? 0 : 1;
      seg[T + j] = j < 4 ? 0 : j < 8 ? 1 : 2;
      keep[j] = 1;
      keep[T + j] = j < T - 2 ? 1 : 0;
    }
    NDArray s = manager.create(seg, new Shape(B, T));
    NDArray k = manager.create(keep, new Shape(B, T));
    AttentionMask mask = AttentionMask.build(manager, B, T, k, s, 0, DataType.FLOAT32);
    compare("packed+padded", mask, H, KV);
  }

  @Test
  void slidingWindow() {
    AttentionMask window = AttentionMask.build(manager, B, T, null, null, 4, DataType.FLOAT32);
    assertFalse(fused.isCausalOnly(window));
    compare("window 4", window, H, KV);
    AttentionMask wide = AttentionMask.build(manager, B, T, null, null, T, DataType.FLOAT32);
    assertTrue(fused.isCausalOnly(wide), "a window covering the sequence is causal");
    assertTrue(wide.causalOnly());
    assertFalse(window.causalOnly());
  }

  @Test
  void causalPathAndMaskedPathAgree() {
    AttentionMask mask = AttentionMask.build(manager, B, T, null, null, 0, DataType.FLOAT32);
    NDArray q = random(manager, new Shape(B, H, T, D), 1);
    NDArray k = random(manager, new Shape(B, KV, T, D), 2);
    NDArray v = random(manager, new Shape(B, KV, T, D), 3);
    float err =
        maxAbs(
            fused.attendCausal(q, k, v).toFloatArray(),
            fused.attendMasked(q, k, v, mask.allowed()).toFloatArray());
    assertTrue(err <= TOL, "is_causal vs boolean mask differ by " + err);
  }

  @Test
  void swigluMatchesPlainOutputsAndGradients() {
    float[][] plain = swiglu(new PlainAttention());
    float[][] fast = swiglu(fused);
    for (int i = 0; i < 3; i++) {
      float err = maxAbs(plain[i], fast[i]);
      System.out.printf(
          "swiglu %s: max|diff|=%.3g%n", new String[] {"out", "dgate", "dup"}[i], err);
      assertTrue(err <= TOL, "swiglu " + i + " differs by " + err);
      assertTrue(maxAbs(fast[i], new float[fast[i].length]) > 1e-2f, "non-trivial values");
    }
  }

  /** Output and the gradients with respect to gate and up of sum(swiglu(gate, up) · w). */
  private static float[][] swiglu(AttentionKernel kernel) {
    try (NDManager m = manager.newSubManager();
        NDScope scope = new NDScope()) {
      NDArray gate = random(m, new Shape(B, T, 40), 21).mul(3);
      NDArray up = random(m, new Shape(B, T, 40), 22);
      NDArray w = random(m, new Shape(B, T, 40), 23);
      gate.setRequiresGradient(true);
      up.setRequiresGradient(true);
      float[] out;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray o = kernel.swiglu(gate, up);
        out = o.toFloatArray();
        gc.backward(o.mul(w).sum());
      }
      return new float[][] {
        out, gate.getGradient().toFloatArray(), up.getGradient().toFloatArray()
      };
    }
  }

  @Test
  void rejectsBadShapes() {
    NDArray q = manager.zeros(new Shape(1, 3, 4, 8));
    NDArray k = manager.zeros(new Shape(1, 2, 4, 8));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> fused.attendCausal(q, k, k));
    assertTrue(e.getMessage().contains("multiple of KV"), e.getMessage());
  }

  private void compare(String what, AttentionMask mask, int heads, int kvHeads) {
    Run plain = run(new PlainAttention(), mask, heads, kvHeads);
    compare(what + " (gqa " + fused.groupedHeads() + ")", plain, run(fused, mask, heads, kvHeads));
    compare(
        what + " (gqa " + fusedNative.groupedHeads() + ")",
        plain,
        run(fusedNative, mask, heads, kvHeads));
  }

  private static void compare(String what, Run plain, Run fast) {
    float out = maxAbs(plain.out(), fast.out());
    float dq = maxAbs(plain.dq(), fast.dq());
    float dk = maxAbs(plain.dk(), fast.dk());
    float dv = maxAbs(plain.dv(), fast.dv());
    System.out.printf(
        "%s: max|dout|=%.3g max|ddq|=%.3g max|ddk|=%.3g max|ddv|=%.3g%n", what, out, dq, dk, dv);
    assertTrue(out <= TOL, what + ": outputs differ by " + out);
    assertTrue(dq <= TOL, what + ": dL/dq differ by " + dq);
    assertTrue(dk <= TOL, what + ": dL/dk differ by " + dk);
    assertTrue(dv <= TOL, what + ": dL/dv differ by " + dv);
    assertTrue(maxAbs(fast.dk(), new float[fast.dk().length]) > 1e-3f, "gradients reach k");
  }

  /**
   * Forward and backward of sum(out · w · sees) with leaves built from fixed seeds; the output is
   * returned times {@code sees} (1 for query rows that see a key, 0 for fully masked rows).
   */
  static Run run(AttentionKernel kernel, AttentionMask mask, int heads, int kvHeads) {
    try (NDManager m = manager.newSubManager();
        NDScope scope = new NDScope()) {
      NDArray q = random(m, new Shape(B, heads, T, D), 11);
      NDArray k = random(m, new Shape(B, kvHeads, T, D), 12);
      NDArray v = random(m, new Shape(B, kvHeads, T, D), 13);
      NDArray sees = mask.allowed().toType(DataType.FLOAT32, false).max(new int[] {3}, true);
      NDArray w = random(m, new Shape(B, heads, T, D), 14).mul(sees);
      q.setRequiresGradient(true);
      k.setRequiresGradient(true);
      v.setRequiresGradient(true);
      float[] out;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray o = kernel.attend(q, k, v, mask);
        assertEquals(new Shape(B, heads, T, D), o.getShape());
        assertFalse(Float.isNaN(o.sum().getFloat()), "no NaN, fully masked rows included");
        out = o.mul(sees).toFloatArray();
        gc.backward(o.mul(w).sum());
      }
      return new Run(
          out,
          q.getGradient().toFloatArray(),
          k.getGradient().toFloatArray(),
          v.getGradient().toFloatArray());
    }
  }

  static NDArray random(NDManager m, Shape shape, long seed) {
    Random r = new Random(seed);
    float[] x = new float[(int) shape.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return m.create(x, shape);
  }

  static float maxAbs(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      float d = Math.abs(a[i] - b[i]);
      if (Float.isNaN(d)) {
        return Float.NaN;
      }
      max = Math.max(max, d);
    }
    return max;
  }
}
