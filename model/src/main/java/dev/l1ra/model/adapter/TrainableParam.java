package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;

/**
 * A trainable fp32 leaf tensor with its PEFT-style name, optimizer group and rank axis. The array
 * is owned by the adapter; callers must not close it.
 *
 * @param rankAxis the axis that indexes the adapter's ranks (0 for A [r, in], gates and singular
 *     values [r]; 1 for B [out, r]), or −1 when the tensor has none. The optimizer keeps its
 *     per-rank step counts along this axis, so ranks added by reallocation start their own bias
 *     correction.
 */
public record TrainableParam(String name, NDArray array, ParamGroup group, int rankAxis) {
  public TrainableParam {
    if (rankAxis < -1 || rankAxis >= Math.max(1, array.getShape().dimension())) {
      throw new IllegalArgumentException(
          name + ": rank axis " + rankAxis + " does not exist in shape " + array.getShape());
    }
  }

  /** A tensor without a rank axis. */
  public static TrainableParam plain(String name, NDArray array, ParamGroup group) {
    return new TrainableParam(name, array, group, -1);
  }
}
