package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.norm.Dropout;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * A layer's linear projections with their adapters. Projections that share an input are fused where
 * it is free: one GEMM for q|k|v and one for gate|up when the layer holds fused weights, and one
 * matmul for the LoRA A matrices of those projections (their outputs are split back and each
 * adapter applies its own gate, B and scaling). With LoRA dropout active the A matmuls stay
 * separate, so every adapter keeps its own dropout mask as in PEFT.
 */
final class Projections {
  static final LinearKind[] QKV = {LinearKind.Q, LinearKind.K, LinearKind.V};
  static final LinearKind[] GATE_UP = {LinearKind.GATE, LinearKind.UP};

  private Projections() {}

  /** Outputs of a group of projections of the same input, in the order of {@code kinds}. */
  static NDList group(
      int layer,
      LinearKind[] kinds,
      Linear fused,
      NDArray x,
      LayerWeights w,
      LlamaModel.LayerContext ctx) {
    NDList ys = fused != null ? split(fused.apply(x), w, kinds) : base(kinds, x, w);
    List<Adapter> ads = adapters(layer, kinds, ctx.adapters());
    boolean dropout = ctx.training() && ctx.adapters() != null && ctx.adapters().dropout() > 0;
    if (!dropout && ads.stream().allMatch(a -> a != null && a.batchesDown())) {
      List<NDArray> deltas = fusedDeltas(x, ads);
      for (int i = 0; i < kinds.length; i++) {
        if (deltas.get(i) != null) {
          ys.set(i, ys.get(i).add(deltas.get(i)));
        }
      }
      return ys;
    }
    for (int i = 0; i < kinds.length; i++) {
      if (ads.get(i) != null) {
        ys.set(i, ys.get(i).add(ads.get(i).delta(dropout(x, ctx))));
      }
    }
    return ys;
  }

  /** One projection with its adapter, if any. */
  static NDArray single(
      int layer, LinearKind kind, NDArray x, LayerWeights w, LlamaModel.LayerContext ctx) {
    NDArray y = w.projection(kind).apply(x);
    Adapter a = ctx.adapters() == null ? null : ctx.adapters().getOrNull(new ModuleId(layer, kind));
    return a == null ? y : y.add(a.delta(dropout(x, ctx)));
  }

  private static NDArray dropout(NDArray x, LlamaModel.LayerContext ctx) {
    double p = ctx.adapters().dropout();
    return ctx.training() && p > 0 ? Dropout.dropout(x, (float) p, true).singletonOrThrow() : x;
  }

  private static NDList base(LinearKind[] kinds, NDArray x, LayerWeights w) {
    NDList out = new NDList();
    for (LinearKind k : kinds) {
      out.add(w.projection(k).apply(x));
    }
    return out;
  }

  /** Splits a fused output [..., Σ out] back into the projections' outputs (last axis). */
  private static NDList split(NDArray y, LayerWeights w, LinearKind[] kinds) {
    List<Long> sizes = new ArrayList<>();
    for (LinearKind k : kinds) {
      sizes.add(w.projection(k).outFeatures());
    }
    return splitLast(y, sizes);
  }

  /** Splits the last axis into consecutive pieces of the given sizes. */
  static NDList splitLast(NDArray y, List<Long> sizes) {
    if (sizes.size() == 1) {
      return new NDList(y);
    }
    long[] at = new long[sizes.size() - 1];
    long acc = 0;
    for (int i = 0; i < at.length; i++) {
      acc += sizes.get(i);
      at[i] = acc;
    }
    return y.split(at, y.getShape().dimension() - 1);
  }

  private static List<Adapter> adapters(int layer, LinearKind[] kinds, AdapterSet set) {
    List<Adapter> out = new ArrayList<>();
    for (LinearKind k : kinds) {
      out.add(set == null ? null : set.getOrNull(new ModuleId(layer, k)));
    }
    return out;
  }

  /**
   * One matmul x·[A_1; A_2; ...]ᵀ for the adapters present, split by rank, then each adapter's
   * gate, B and scaling; null where a projection has no adapter.
   */
  private static List<NDArray> fusedDeltas(NDArray x, List<Adapter> ads) {
    DataType t = x.getDataType();
    NDList as = new NDList();
    List<Long> ranks = new ArrayList<>();
    for (Adapter a : ads) {
      if (a != null) {
        NDArray ai = Ops.castWithGrad(a.down(), t);
        as.add(ai);
        ranks.add(ai.getShape().get(0));
      }
    }
    List<NDArray> out = new ArrayList<>();
    if (as.isEmpty()) {
      ads.forEach(a -> out.add(null));
      return out;
    }
    NDArray aCat = as.size() == 1 ? as.get(0) : NDArrays.concat(as, 0); // [Σr, in]
    NDList hs = splitLast(Linear.project(x, aCat), ranks); // [..., r_i]
    int k = 0;
    for (Adapter a : ads) {
      out.add(a == null ? null : a.fromDown(hs.get(k++)));
    }
    return out;
  }
}
