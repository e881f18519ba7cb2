package dev.l1ra.job.spark.transport;

import dev.l1ra.core.safetensors.HalfFloats;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The element loops of {@link PayloadCodec}: one tight loop per element type, little-endian through
 * byte-array views; fp16 decodes through a 65,536-entry table and encodes by a branch-free path for
 * values in half's normal range.
 */
final class Elements {
  static final VarHandle F32 =
      MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
  private static final float[] HALF = new float[1 << 16];

  static {
    for (int h = 0; h < HALF.length; h++) {
      HALF[h] = HalfFloats.halfToFloat((short) h);
    }
  }

  private Elements() {}

  /** e such that the largest |x| of the segment times 2^e lies in [2^14, 2^15); 0 if none. */
  static int fp16Exponent(float[] x, int from, int n, Payload base, int baseAt) {
    float max = 0;
    byte[] b = base == null ? null : base.bytes();
    for (int i = 0; i < n; i++) {
      float v = b == null ? x[from + i] : x[from + i] - (float) F32.get(b, baseAt + 4 * i);
      max = Math.max(max, Math.abs(v));
    }
    return scaleExponent(max);
  }

  /** The fp16 scale exponent for a segment whose largest magnitude is {@code max}. */
  static int scaleExponent(float max) {
    if (max == 0 || !Float.isFinite(max)) {
      return 0;
    }
    return Math.min(127, 14 - Math.getExponent(max));
  }

  static void write(
      byte[] out,
      int pos,
      PayloadDtype dtype,
      int e,
      float[] x,
      int from,
      int n,
      Payload base,
      int baseAt) {
    byte[] b = base == null ? null : base.bytes();
    if (dtype == PayloadDtype.FP32 && b == null) {
      ByteBuffer.wrap(out, pos, 4 * n)
          .slice()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .put(x, from, n);
    } else if (dtype == PayloadDtype.FP32) {
      for (int i = 0; i < n; i++) {
        F32.set(out, pos + 4 * i, x[from + i] - (float) F32.get(b, baseAt + 4 * i));
      }
    } else if (dtype == PayloadDtype.FP16) {
      float scale = Math.scalb(1f, e);
      for (int i = 0; i < n; i++) {
        float v = b == null ? x[from + i] : x[from + i] - (float) F32.get(b, baseAt + 4 * i);
        Payload.I16.set(out, pos + 2 * i, toHalf(v * scale));
      }
    } else {
      for (int i = 0; i < n; i++) {
        float v = b == null ? x[from + i] : x[from + i] - (float) F32.get(b, baseAt + 4 * i);
        Payload.I16.set(out, pos + 2 * i, HalfFloats.floatToBf16(v));
      }
    }
  }

  /**
   * Float to IEEE half, round to nearest even: a branch-free path for values in half's normal range
   * and {@link HalfFloats#floatToHalf} (bit-identical) for zeros, subnormals, overflow and NaN.
   */
  static short toHalf(float f) {
    int x = Float.floatToRawIntBits(f);
    int abs = x & 0x7fffffff;
    if (abs >= 0x38800000 && abs < 0x477ff000) { // 2^-14 <= |f| < 65520
      int r = abs - 0x38000000; // exponent rebiased from 127 to 15
      r += 0x0fff + ((r >>> 13) & 1);
      return (short) (((x >>> 16) & 0x8000) | (r >>> 13));
    }
    return HalfFloats.floatToHalf(f);
  }

  /**
   * {@code acc[to + i] = f·xᵢ} (or {@code +=} when {@code add}) for the n elements of type d at
   * byte {@code pos}; fp32 copies without a factor in bulk.
   */
  static void read(
      byte[] b, int pos, PayloadDtype d, int n, float f, float[] acc, int to, boolean add) {
    if (d == PayloadDtype.FP32 && !add && f == 1f) {
      ByteBuffer.wrap(b, pos, 4 * n)
          .slice()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(acc, to, n);
      return;
    }
    // one loop per type, so that each stays a tight loop (add is loop-invariant)
    if (d == PayloadDtype.FP32) {
      for (int i = 0; i < n; i++) {
        float v = f * (float) F32.get(b, pos + 4 * i);
        acc[to + i] = add ? acc[to + i] + v : v;
      }
    } else if (d == PayloadDtype.FP16) {
      for (int i = 0; i < n; i++) {
        float v = f * HALF[(short) Payload.I16.get(b, pos + 2 * i) & 0xffff];
        acc[to + i] = add ? acc[to + i] + v : v;
      }
    } else {
      for (int i = 0; i < n; i++) {
        float v = f * Float.intBitsToFloat(((short) Payload.I16.get(b, pos + 2 * i)) << 16);
        acc[to + i] = add ? acc[to + i] + v : v;
      }
    }
  }
}
