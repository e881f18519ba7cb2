package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * One micro-batch on the device. Arrays belong to the step's manager.
 *
 * @param inputIds [B, T] int64 token ids
 * @param positions [B, T] int64 position ids (restart at 0 for each packed sample)
 * @param keep [B, T] int32: 1 real token, 0 padding; null when there is no padding
 * @param segments [B, T] int32 packed-sample index; null when each row is one sample
 */
public record Batch(NDArray inputIds, NDArray positions, NDArray keep, NDArray segments) {

  public int size() {
    return (int) inputIds.getShape().get(0);
  }

  public int seqLen() {
    return (int) inputIds.getShape().get(1);
  }

  /**
   * A batch of equal-length rows with positions 0..T-1.
   *
   * @param ids [B][T] token ids
   * @param attention [B][T] 1/0 mask, or null for all real tokens
   */
  public static Batch of(NDManager manager, long[][] ids, int[][] attention) {
    int b = ids.length;
    int t = ids[0].length;
    long[] flat = new long[b * t];
    long[] pos = new long[b * t];
    int[] keep = attention == null ? null : new int[b * t];
    boolean padded = false;
    for (int i = 0; i < b; i++) {
      if (ids[i].length != t) {
        throw new IllegalArgumentException(
            "row " + i + " has " + ids[i].length + " tokens, row 0 has " + t);
      }
      for (int j = 0; j < t; j++) {
        flat[i * t + j] = ids[i][j];
        pos[i * t + j] = j;
        if (keep != null) {
          keep[i * t + j] = attention[i][j];
          padded |= attention[i][j] == 0;
        }
      }
    }
    Shape s = new Shape(b, t);
    return new Batch(
        manager.create(flat, s),
        manager.create(pos, s),
        padded ? manager.create(keep, s) : null,
        null);
  }

  /** Builds a batch from device arrays already made (ids and positions int64). */
  public static Batch of(NDArray ids, NDArray positions, NDArray keep, NDArray segments) {
    if (ids.getDataType() != DataType.INT64) {
      throw new IllegalArgumentException("input ids must be int64, got " + ids.getDataType());
    }
    return new Batch(ids, positions, keep, segments);
  }
}
