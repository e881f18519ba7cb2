package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.llama.AttentionMask;
import dev.l1ra.model.llama.PlainAttention;

/**
 * A load-time probe: the fused kernels against the plain ones on a tiny fp32 input (grouped-query
 * heads, causal and left-padded masks; SwiGLU). Catches a module that loads but computes something
 * else on this engine or device before any training step depends on it.
 */
final class SelfCheck {
  static final float TOLERANCE = 1e-4f;

  private SelfCheck() {}

  static void run(FusedAttention kernel, Device device) {
    int t = 5;
    try (NDManager m = NDManager.newBaseManager(device, EngineInfo.ENGINE)) {
      NDArray q = values(m, new Shape(1, 4, t, 8), 0.37f);
      NDArray k = values(m, new Shape(1, 2, t, 8), 0.53f);
      NDArray v = values(m, new Shape(1, 2, t, 8), 0.71f);
      NDArray keep = m.create(new int[] {0, 0, 1, 1, 1}, new Shape(1, t));
      AttentionMask causal = AttentionMask.build(m, 1, t, null, null, 0, DataType.FLOAT32);
      AttentionMask padded = AttentionMask.build(m, 1, t, keep, null, 0, DataType.FLOAT32);
      PlainAttention plain = new PlainAttention();
      compare("causal", kernel.attendCausal(q, k, v), plain.attend(q, k, v, causal));
      compare(
          "masked", kernel.attendMasked(q, k, v, padded.additive()), plain.attend(q, k, v, padded));
      compare("swiglu", kernel.swiglu(q, q.sin()), plain.swiglu(q, q.sin()));
    }
  }

  /** Deterministic values in [-1, 1] (no engine RNG: its seed is JVM-wide). */
  private static NDArray values(NDManager m, Shape shape, float step) {
    return m.arange(0f, (float) shape.size()).mul(step).sin().reshape(shape);
  }

  private static void compare(String what, NDArray fused, NDArray plain) {
    float err = fused.sub(plain).abs().max().getFloat();
    if (!(err <= TOLERANCE)) {
      throw new IllegalStateException(
          "self-check (" + what + "): fused attention differs from plain attention by " + err);
    }
  }
}
