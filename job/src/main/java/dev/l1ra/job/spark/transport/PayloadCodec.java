package dev.l1ra.job.spark.transport;

import java.util.ArrayList;
import java.util.List;

/**
 * Encodes float tensors as {@link Payload}s and back, in bulk: fp32 through {@code
 * ByteBuffer.asFloatBuffer()}, fp16/bf16 in one tight loop per segment; nothing is serialized
 * element by element. A payload holds at most about 2 GiB (one {@code byte[]}); larger vectors
 * travel as chunks ({@link #encodeChunks}), which is also how a reduce-scatter wants them.
 *
 * <p>Chunk c of C covers elements [c·n/C, (c+1)·n/C) of the concatenation of all tensors (n
 * elements), whatever the tensor boundaries; every chunk carries the whole weight and scalars.
 */
public final class PayloadCodec {
  private static final long MAX_BYTES = Integer.MAX_VALUE - 16;

  private PayloadCodec() {}

  /** One payload holding all tensors (in list order). */
  public static Payload encode(
      List<float[]> tensors, PayloadDtype dtype, double weight, double... scalars) {
    return encodeChunks(tensors, 1, dtype, weight, scalars).get(0);
  }

  /** The tensors' concatenation as {@code chunks} payloads of near-equal element counts. */
  public static List<Payload> encodeChunks(
      List<float[]> tensors, int chunks, PayloadDtype dtype, double weight, double... scalars) {
    return encode(tensors, null, chunks, dtype, weight, scalars);
  }

  /**
   * The differences {@code tensors − base} as chunks, computed while encoding (no difference
   * arrays): for fp16/bf16 a round's change travels with far less relative error than the state.
   *
   * @param base a whole, unweighted fp32 payload of the same total length (e.g. the broadcast state
   *     the round started from)
   */
  public static List<Payload> encodeDeltaChunks(
      List<float[]> tensors,
      Payload base,
      int chunks,
      PayloadDtype dtype,
      double weight,
      double... scalars) {
    if (base.dtype() != PayloadDtype.FP32 || base.chunks() != 1 || base.weightedSum()) {
      throw new IllegalArgumentException("a delta's base must be a whole fp32 payload: " + base);
    }
    return encode(tensors, base, chunks, dtype, weight, scalars);
  }

  private static List<Payload> encode(
      List<float[]> tensors,
      Payload base,
      int chunks,
      PayloadDtype dtype,
      double weight,
      double[] scalars) {
    long total = 0;
    for (float[] t : tensors) {
      total += t.length;
    }
    if (base != null && base.totalLength() != total) {
      throw new IllegalArgumentException(
          "delta base has " + base.totalLength() + " elements, the tensors " + total);
    }
    if (chunks < 1 || (chunks > 1 && chunks > total)) {
      throw new IllegalArgumentException(
          "chunk count " + chunks + " for " + total + " elements: need 1.." + Math.max(1, total));
    }
    List<Payload> out = new ArrayList<>(chunks);
    for (int c = 0; c < chunks; c++) {
      long lo = chunkStart(total, c, chunks);
      long hi = chunkStart(total, c + 1, chunks);
      out.add(encodeRange(tensors, base, lo, hi, c, chunks, total, dtype, weight, scalars));
    }
    return out;
  }

  /** First element of chunk c of C over n elements. */
  public static long chunkStart(long n, int c, int chunks) {
    return n * c / chunks;
  }

  /**
   * The parts of tensors that fall inside [lo, hi) of [0, total): {tensor, from, to} each. An empty
   * tensor is a segment of the chunk where it starts (the last chunk if at the end), so a whole
   * payload has one segment per tensor.
   */
  private static List<int[]> pieces(List<float[]> tensors, long lo, long hi, long total) {
    List<int[]> p = new ArrayList<>();
    long start = 0;
    for (int t = 0; t < tensors.size(); t++) {
      long end = start + tensors.get(t).length;
      long a = Math.max(lo, start);
      long b = Math.min(hi, end);
      boolean empty = start == end && start >= lo && (start < hi || hi == total);
      if (a < b || empty) {
        p.add(new int[] {t, (int) (a - start), (int) (Math.max(a, b) - start)});
      }
      start = end;
    }
    return p;
  }

  private static Payload encodeRange(
      List<float[]> tensors,
      Payload base,
      long lo,
      long hi,
      int chunk,
      int chunks,
      long total,
      PayloadDtype dtype,
      double weight,
      double[] scalars) {
    List<int[]> pieces = pieces(tensors, lo, hi, total);
    int header = Payload.FIXED_HEADER + 8 * scalars.length + 8 * pieces.size();
    long size = header + (hi - lo) * dtype.bytes();
    if (size > MAX_BYTES) {
      throw new IllegalArgumentException(
          "a payload of "
              + size
              + " bytes does not fit one byte[] (2 GiB): encode it in at least "
              + (size / MAX_BYTES + 1) * chunks
              + " chunks");
    }
    byte[] out = new byte[(int) size];
    writeHeader(out, dtype, 0, chunk, chunks, lo, total, weight, scalars, pieces.size());
    int pos = header;
    long flat = lo;
    for (int s = 0; s < pieces.size(); s++) {
      int[] piece = pieces.get(s);
      float[] x = tensors.get(piece[0]);
      int n = piece[2] - piece[1];
      int baseAt = base == null ? -1 : base.dataStart() + (int) (4 * flat);
      int e = dtype == PayloadDtype.FP16 ? Elements.fp16Exponent(x, piece[1], n, base, baseAt) : 0;
      int table = Payload.FIXED_HEADER + 8 * scalars.length + 8 * s;
      Payload.I32.set(out, table, n);
      Payload.I32.set(out, table + 4, e);
      Elements.write(out, pos, dtype, e, x, piece[1], n, base, baseAt);
      pos += n * dtype.bytes();
      flat += n;
    }
    return Payload.wrap(out);
  }

  /**
   * The segment table and data of a payload whose elements are {@code flat}, cut into segments of
   * the given lengths (the header before {@code dataStart} is the caller's).
   */
  static void writeSegments(
      byte[] out, int dataStart, PayloadDtype dtype, float[] flat, int[] lengths, int scalars) {
    int pos = dataStart;
    int from = 0;
    for (int s = 0; s < lengths.length; s++) {
      int n = lengths[s];
      int e = dtype == PayloadDtype.FP16 ? Elements.fp16Exponent(flat, from, n, null, -1) : 0;
      int table = Payload.FIXED_HEADER + 8 * scalars + 8 * s;
      Payload.I32.set(out, table, n);
      Payload.I32.set(out, table + 4, e);
      Elements.write(out, pos, dtype, e, flat, from, n, null, -1);
      pos += n * dtype.bytes();
      from += n;
    }
  }

  static void writeHeader(
      byte[] out,
      PayloadDtype dtype,
      int flags,
      int chunk,
      int chunks,
      long offset,
      long total,
      double weight,
      double[] scalars,
      int segments) {
    Payload.I32.set(out, 0, Payload.MAGIC);
    Payload.I16.set(out, 4, Payload.VERSION);
    out[6] = (byte) dtype.code();
    out[7] = (byte) flags;
    Payload.I32.set(out, 8, chunk);
    Payload.I32.set(out, 12, chunks);
    Payload.I64.set(out, 16, offset);
    Payload.I64.set(out, 24, total);
    Payload.F64.set(out, 32, weight);
    Payload.I32.set(out, 40, segments);
    Payload.I32.set(out, 44, scalars.length);
    for (int i = 0; i < scalars.length; i++) {
      Payload.F64.set(out, Payload.FIXED_HEADER + 8 * i, scalars[i]);
    }
  }

  /** All elements of the payload, in order (a whole payload: the concatenated tensors). */
  public static float[] decode(Payload p) {
    float[] out = new float[Math.toIntExact(p.length())];
    addOrCopy(p, 1f, out, 0, false);
    return out;
  }

  /** One array per segment (for a whole payload: the tensors as encoded). */
  public static List<float[]> decodeTensors(Payload p) {
    List<float[]> out = new ArrayList<>(p.segments());
    long at = 0;
    for (int s = 0; s < p.segments(); s++) {
      float[] t = new float[p.segmentLength(s)];
      readSegment(p, s, at, 1f, t, 0, false);
      out.add(t);
      at += t.length;
    }
    return out;
  }

  /** Writes the payload's elements into {@code full} at their place, {@link Payload#offset()}. */
  public static void decodeInto(Payload p, float[] full) {
    if (full.length != p.totalLength()) {
      throw new IllegalArgumentException(
          "decoding " + p + " into an array of " + full.length + " elements");
    }
    addOrCopy(p, 1f, full, Math.toIntExact(p.offset()), false);
  }

  /** {@code acc[accOffset + i] += factor · xᵢ} for every element i of the payload, in order. */
  public static void addTo(Payload p, float factor, float[] acc, int accOffset) {
    addOrCopy(p, factor, acc, accOffset, true);
  }

  private static void addOrCopy(Payload p, float factor, float[] acc, int at, boolean add) {
    long done = 0;
    for (int s = 0; s < p.segments(); s++) {
      readSegment(p, s, done, factor, acc, Math.toIntExact(at + done), add);
      done += p.segmentLength(s);
    }
  }

  /** Segment s (starting {@code elem} elements into the payload) into acc at {@code to}. */
  private static void readSegment(
      Payload p, int s, long elem, float factor, float[] acc, int to, boolean add) {
    byte[] b = p.bytes();
    PayloadDtype d = p.dtype();
    int n = p.segmentLength(s);
    int pos = Math.toIntExact(p.dataStart() + elem * d.bytes());
    float f = d == PayloadDtype.FP16 ? factor * Math.scalb(1f, -p.segmentExponent(s)) : factor;
    Elements.read(b, pos, d, n, f, acc, to, add);
  }

  /**
   * Chunk c of C of a whole payload, by copying its bytes (any dtype: fp16 segments keep their
   * scale); weight and scalars are copied to every chunk.
   */
  public static Payload slice(Payload whole, int c, int chunks) {
    if (whole.chunks() != 1) {
      throw new IllegalArgumentException("only a whole payload can be sliced: " + whole);
    }
    long n = whole.length();
    long lo = chunkStart(n, c, chunks);
    long hi = chunkStart(n, c + 1, chunks);
    List<int[]> segs = new ArrayList<>(); // {length, exponent}
    long start = 0;
    for (int s = 0; s < whole.segments(); s++) {
      long end = start + whole.segmentLength(s);
      long a = Math.max(lo, start);
      long b = Math.min(hi, end);
      boolean empty = start == end && start >= lo && (start < hi || hi == n);
      if (a < b || empty) {
        segs.add(new int[] {(int) Math.max(0, b - a), whole.segmentExponent(s)});
      }
      start = end;
    }
    double[] scalars = whole.scalars();
    int w = whole.dtype().bytes();
    int header = Payload.FIXED_HEADER + 8 * scalars.length + 8 * segs.size();
    byte[] out = new byte[Math.toIntExact(header + (hi - lo) * w)];
    int flags = whole.weightedSum() ? Payload.FLAG_WEIGHTED_SUM : 0;
    writeHeader(out, whole.dtype(), flags, c, chunks, lo, n, whole.weight(), scalars, segs.size());
    for (int s = 0; s < segs.size(); s++) {
      int table = Payload.FIXED_HEADER + 8 * scalars.length + 8 * s;
      Payload.I32.set(out, table, segs.get(s)[0]);
      Payload.I32.set(out, table + 4, segs.get(s)[1]);
    }
    System.arraycopy(
        whole.bytes(),
        Math.toIntExact(whole.dataStart() + lo * w),
        out,
        header,
        (int) (hi - lo) * w);
    return Payload.wrap(out);
  }
}
