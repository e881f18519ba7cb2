package dev.l1ra.model.train;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.data.Sample;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.loss.CausalLmLoss;
import java.util.ArrayList;
import java.util.List;

/**
 * A micro-batch collated on the host: rows right-padded to the longest row, padding masked out of
 * attention and loss. Built once per micro-batch and copied to the device in one go.
 */
public record HostBatch(
    int rows,
    int seq,
    long[] ids,
    long[] positions,
    int[] keep,
    int[] segments,
    long[] shiftedTargets,
    long learned,
    boolean padded) {

  /** Collates samples; padding uses {@code padId} (its value never matters: masked). */
  public static HostBatch collate(List<Sample> samples, int padId) {
    int b = samples.size();
    int t = samples.stream().mapToInt(Sample::length).max().orElseThrow();
    long[] ids = new long[b * t];
    long[] pos = new long[b * t];
    int[] keep = new int[b * t];
    boolean packed = samples.stream().anyMatch(s -> s.segments() != null);
    int[] seg = packed ? new int[b * t] : null;
    long[] shifted = new long[b * t];
    boolean padded = false;
    long learned = 0;
    for (int i = 0; i < b; i++) {
      Sample s = samples.get(i);
      for (int j = 0; j < t; j++) {
        int k = i * t + j;
        boolean real = j < s.length();
        padded |= !real;
        ids[k] = real ? s.inputIds()[j] : padId;
        pos[k] = real ? (s.positions() == null ? j : s.positions()[j]) : 0;
        keep[k] = real ? 1 : 0;
        if (seg != null) {
          seg[k] = real ? (s.segments() == null ? 0 : s.segments()[j]) : -1;
        }
        shifted[k] = j + 1 < s.length() ? s.labels()[j + 1] : CausalLmLoss.IGNORE;
        learned += shifted[k] == CausalLmLoss.IGNORE ? 0 : 1;
      }
    }
    return new HostBatch(b, t, ids, pos, keep, seg, shifted, learned, padded);
  }

  /** Splits samples, in order, into collated micro-batches of at most {@code size} rows. */
  public static List<HostBatch> split(List<Sample> samples, int size, int padId) {
    List<HostBatch> out = new ArrayList<>();
    for (int i = 0; i < samples.size(); i += size) {
      out.add(collate(samples.subList(i, Math.min(samples.size(), i + size)), padId));
    }
    return out;
  }

  /** The model inputs on the device (arrays belong to {@code m}). */
  public Batch toDevice(NDManager m) {
    Shape s = new Shape(rows, seq);
    return new Batch(
        m.create(ids, s),
        m.create(positions, s),
        padded ? m.create(keep, s) : null,
        segments == null ? null : m.create(segments, s));
  }

  /** Loss targets on the device: [B, T, 1] ids and a [B, T] mask. */
  public NDList targets(NDManager m) {
    return CausalLmLoss.targets(m, shiftedTargets, rows, seq);
  }
}
