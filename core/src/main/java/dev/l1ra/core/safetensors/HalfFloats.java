package dev.l1ra.core.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** IEEE half (F16) and bfloat16 (BF16) conversions done on the host (Java 17 has none built in). */
public final class HalfFloats {
  private HalfFloats() {}

  /** Exact conversion of an IEEE binary16 bit pattern to float. */
  public static float halfToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // subnormal half: mant * 2^-24
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Float to IEEE binary16, round to nearest even, overflow to infinity (as torch does). */
  public static short floatToHalf(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = (x >>> 16) & 0x8000;
    int exp = (x >>> 23) & 0xff;
    int mant = x & 0x7fffff;
    if (exp == 0xff) {
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      mant |= 0x800000;
      int shift = 14 - e;
      int half = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) == 1)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) {
      half++;
    }
    return (short) (sign | half);
  }

  /** Exact conversion of a bfloat16 bit pattern to float. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Float to bfloat16, round to nearest even (NaN stays NaN). */
  public static short floatToBf16(float f) {
    int x = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((x >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((x >>> 16) & 1);
    return (short) ((x + rounding) >>> 16);
  }

  /** Converts little-endian F32/F16/BF16 bytes to a float array. */
  public static float[] toFloatArray(ByteBuffer data, DType dtype) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.remaining() / dtype.bytes();
    float[] out = new float[n];
    int base = b.position();
    switch (dtype) {
      case F32 -> b.asFloatBuffer().get(out);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = halfToFloat(b.getShort(base + 2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = bf16ToFloat(b.getShort(base + 2 * i));
        }
      }
      default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
    }
    return out;
  }

  /**
   * Widens BF16 or F16 little-endian bytes to a new direct F32 buffer (little-endian), e.g. so that
   * an engine without bf16 support can take the tensor.
   */
  public static ByteBuffer widenToF32(ByteBuffer data, DType dtype) {
    ByteBuffer src = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = src.remaining() / dtype.bytes();
    ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    int base = src.position();
    for (int i = 0; i < n; i++) {
      short s = src.getShort(base + 2 * i);
      out.putFloat(i * 4, dtype == DType.BF16 ? bf16ToFloat(s) : halfToFloat(s));
    }
    return out;
  }
}
