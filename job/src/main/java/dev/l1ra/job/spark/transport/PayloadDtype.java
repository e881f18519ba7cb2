package dev.l1ra.job.spark.transport;

import java.util.Locale;

/**
 * Element type of a payload's data: fp32 (exact), fp16 (IEEE binary16 with a power-of-two scale per
 * segment, so small gradients stay in fp16's normal range) or bf16 (fp32's exponent range, 8 bits
 * of mantissa, no scale).
 */
public enum PayloadDtype {
  FP32(0, 4),
  FP16(1, 2),
  BF16(2, 2);

  private final int code;
  private final int bytes;

  PayloadDtype(int code, int bytes) {
    this.code = code;
    this.bytes = bytes;
  }

  /** The header's dtype byte. */
  public int code() {
    return code;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  static PayloadDtype ofCode(int code) {
    for (PayloadDtype d : values()) {
      if (d.code == code) {
        return d;
      }
    }
    throw new IllegalArgumentException("payload dtype code " + code + " is not 0, 1 or 2");
  }

  /** {@code fp32}, {@code fp16} or {@code bf16}. */
  public static PayloadDtype parse(String s) {
    for (PayloadDtype d : values()) {
      if (d.name().equalsIgnoreCase(s)) {
        return d;
      }
    }
    throw new IllegalArgumentException("payload type \"" + s + "\" is not fp32, fp16 or bf16");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
