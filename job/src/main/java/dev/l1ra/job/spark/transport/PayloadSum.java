package dev.l1ra.job.spark.transport;

import java.util.Arrays;

/**
 * Σ wᵢ·xᵢ, Σ wᵢ and the summed scalars of payloads that cover the same range (the same chunk of the
 * same layout), added in the order {@link #add} is called, in fp32. A payload that is already a
 * weighted sum is added as is (its values are Σ wⱼ·xⱼ), so sums of sums are sums. The order of
 * calls fixes the result bit for bit: callers add in partition order, never in arrival order.
 */
public final class PayloadSum {
  private float[] acc;
  private double weight;
  private double[] scalars;
  private Payload first;

  /** Adds one payload; all added payloads must have the first one's range and segments. */
  public PayloadSum add(Payload p) {
    if (first == null) {
      first = p;
      acc = new float[Math.toIntExact(p.length())];
      scalars = new double[p.scalarCount()];
    } else {
      requireSameRange(p);
    }
    float factor = p.weightedSum() ? 1f : (float) p.weight();
    PayloadCodec.addTo(p, factor, acc, 0);
    weight += p.weight();
    for (int i = 0; i < scalars.length; i++) {
      scalars[i] += p.scalar(i);
    }
    return this;
  }

  private void requireSameRange(Payload p) {
    boolean same =
        p.offset() == first.offset()
            && p.length() == first.length()
            && p.totalLength() == first.totalLength()
            && p.segments() == first.segments()
            && p.scalarCount() == first.scalarCount();
    for (int s = 0; same && s < p.segments(); s++) {
      same = p.segmentLength(s) == first.segmentLength(s);
    }
    if (!same) {
      throw new IllegalArgumentException(
          "cannot add payloads of different layouts: " + first + " and " + p);
    }
  }

  public boolean isEmpty() {
    return first == null;
  }

  /** Σ wᵢ·xᵢ (not a copy). */
  public float[] values() {
    requireSome();
    return acc;
  }

  public double weight() {
    return weight;
  }

  /** The type of the first payload added. */
  public PayloadDtype dtype() {
    requireSome();
    return first.dtype();
  }

  public double[] scalars() {
    requireSome();
    return scalars.clone();
  }

  /**
   * The sum as a payload flagged as a weighted sum, with the added payloads' range and segment
   * boundaries (fp16 segments get exponents for the summed values).
   */
  public Payload toPayload(PayloadDtype dtype) {
    requireSome();
    int segments = first.segments();
    int header = Payload.FIXED_HEADER + 8 * scalars.length + 8 * segments;
    long size = header + (long) acc.length * dtype.bytes();
    byte[] out = new byte[Math.toIntExact(size)];
    PayloadCodec.writeHeader(
        out,
        dtype,
        Payload.FLAG_WEIGHTED_SUM,
        first.chunk(),
        first.chunks(),
        first.offset(),
        first.totalLength(),
        weight,
        scalars,
        segments);
    int[] lengths = new int[segments];
    for (int s = 0; s < segments; s++) {
      lengths[s] = first.segmentLength(s);
    }
    PayloadCodec.writeSegments(out, header, dtype, acc, lengths, scalars.length);
    return Payload.wrap(out);
  }

  private void requireSome() {
    if (first == null) {
      throw new IllegalStateException("no payload was added");
    }
  }

  @Override
  public String toString() {
    return first == null
        ? "PayloadSum[empty]"
        : "PayloadSum[" + first + ", weight " + weight + ", " + Arrays.toString(scalars) + "]";
  }
}
