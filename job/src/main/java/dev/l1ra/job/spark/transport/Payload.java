package dev.l1ra.job.spark.transport;

import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Float tensors (or a chunk of their concatenation) as one {@code byte[]} in a fixed little-endian
 * layout, so that Spark moves them as bytes: no per-element Java or Kryo serialization. A plain
 * class (not a record) so that Kryo can serialize it too ({@code spark.serializer=…KryoSerializer};
 * with {@code spark.kryo.registrationRequired} register {@code
 * dev.l1ra.job.spark.transport.Payload} in {@code spark.kryo.classesToRegister}).
 *
 * <p>Layout (version 1), all fields little-endian:
 *
 * <pre>
 * offset  size  field
 *  0      4     magic "L1PL" (bytes 4C 31 50 4C)
 *  4      2     format version (1)
 *  6      1     dtype: 0 fp32, 1 fp16, 2 bf16
 *  7      1     flags: bit 0 = values are a weighted sum Σ wᵢ·xᵢ (set by a reduction)
 *  8      4     chunk index c (0 for a whole payload)
 * 12      4     chunk count C (1 for a whole payload)
 * 16      8     offset of the first element in the concatenation of all tensors
 * 24      8     total elements of that concatenation (the full vector's length)
 * 32      8     weight w (float64): e.g. learned tokens; a reduction sums Σ wᵢ·xᵢ and Σ wᵢ
 * 40      4     segment count T
 * 44      4     scalar count K
 * 48      8·K   scalars (float64; summed by a reduction): loss sums, token counts, ...
 * ..      8·T   per segment: element count (int32), scale exponent e (int32)
 * ..            data: the T segments back to back, 4 (fp32) or 2 (fp16, bf16) bytes per element
 * </pre>
 *
 * A segment is a tensor, or the part of a tensor that falls inside a chunk. An fp16 element stores
 * {@code x·2^e}, with e chosen per segment so that the segment's largest |x| lands in [2^14, 2^15):
 * values down to 2^-28 of the segment's maximum keep fp16's full 11-bit precision. fp32 and bf16
 * segments have e = 0. The header is a multiple of 8 bytes, so data is aligned for its type.
 */
public final class Payload implements Serializable {
  private static final long serialVersionUID = 1L;

  static final int MAGIC = 0x4C50314C;
  static final short VERSION = 1;
  static final int FLAG_WEIGHTED_SUM = 1;
  static final int FIXED_HEADER = 48;

  static final VarHandle I32 =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle I64 =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle F64 =
      MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle I16 =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

  private final byte[] bytes;

  private Payload(byte[] bytes) {
    this.bytes = bytes;
  }

  /** A payload over these bytes (not copied), after checking the header. */
  public static Payload wrap(byte[] bytes) {
    if (bytes.length < FIXED_HEADER || (int) I32.get(bytes, 0) != MAGIC) {
      throw new IllegalArgumentException(
          "not an l1ra payload (" + bytes.length + " bytes, no \"L1PL\" header)");
    }
    int version = (short) I16.get(bytes, 4);
    if (version != VERSION) {
      throw new IllegalArgumentException(
          "payload format version " + version + ", this build reads version " + VERSION);
    }
    Payload p = new Payload(bytes);
    long expected = (long) p.dataStart() + p.length() * p.dtype().bytes();
    if (expected != bytes.length) {
      throw new IllegalArgumentException(
          "payload of " + bytes.length + " bytes, its header describes " + expected);
    }
    return p;
  }

  /** The encoded bytes (not a copy: do not modify). */
  public byte[] bytes() {
    return bytes;
  }

  public PayloadDtype dtype() {
    return PayloadDtype.ofCode(bytes[6]);
  }

  /** True when the values are a reduction's Σ wᵢ·xᵢ (and {@link #weight()} is Σ wᵢ). */
  public boolean weightedSum() {
    return (bytes[7] & FLAG_WEIGHTED_SUM) != 0;
  }

  public int chunk() {
    return (int) I32.get(bytes, 8);
  }

  public int chunks() {
    return (int) I32.get(bytes, 12);
  }

  /** Index of this payload's first element in the full vector. */
  public long offset() {
    return (long) I64.get(bytes, 16);
  }

  /**
   * Elements of the full vector (all tensors concatenated), of which this payload holds a range.
   */
  public long totalLength() {
    return (long) I64.get(bytes, 24);
  }

  public double weight() {
    return (double) F64.get(bytes, 32);
  }

  public int segments() {
    return (int) I32.get(bytes, 40);
  }

  public int scalarCount() {
    return (int) I32.get(bytes, 44);
  }

  public double scalar(int i) {
    return (double) F64.get(bytes, FIXED_HEADER + 8 * i);
  }

  public double[] scalars() {
    double[] s = new double[scalarCount()];
    for (int i = 0; i < s.length; i++) {
      s[i] = scalar(i);
    }
    return s;
  }

  public int segmentLength(int i) {
    return (int) I32.get(bytes, segmentTable() + 8 * i);
  }

  public int segmentExponent(int i) {
    return (int) I32.get(bytes, segmentTable() + 8 * i + 4);
  }

  /** Elements in this payload (the sum of its segments' lengths). */
  public long length() {
    long n = 0;
    for (int i = 0; i < segments(); i++) {
      n += segmentLength(i);
    }
    return n;
  }

  int segmentTable() {
    return FIXED_HEADER + 8 * scalarCount();
  }

  /** Byte offset of the first element. */
  int dataStart() {
    return segmentTable() + 8 * segments();
  }

  @Override
  public String toString() {
    return "Payload["
        + dtype()
        + ", chunk "
        + chunk()
        + "/"
        + chunks()
        + ", elements "
        + offset()
        + "+"
        + length()
        + " of "
        + totalLength()
        + ", "
        + bytes.length
        + " bytes]";
  }
}
