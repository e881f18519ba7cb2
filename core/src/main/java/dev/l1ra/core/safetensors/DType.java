package dev.l1ra.core.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Element types of the safetensors format that this project reads and writes. */
public enum DType {
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  U8(1),
  BOOL(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Size of one element in bytes. */
  public int bytes() {
    return bytes;
  }

  /** True for the floating-point types (F32, F16, BF16). */
  public boolean isFloating() {
    return this == F32 || this == F16 || this == BF16;
  }

  /**
   * Parses the safetensors dtype string ("F32", "BF16", ...).
   *
   * @throws IllegalArgumentException naming the unknown dtype and the supported ones
   */
  public static DType parse(String name) {
    for (DType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "unknown dtype \""
            + name
            + "\"; supported: "
            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
  }
}
