package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.engine.Ops;

/**
 * Attention from plain DJL ops, as transformers' eager path computes it: scores scaled by
 * 1/sqrt(D), additive mask, softmax in float32, then weights·v. The reference implementation.
 */
public final class PlainAttention implements AttentionKernel {

  @Override
  public NDArray attend(NDArray q, NDArray k, NDArray v, AttentionMask mask) {
    Shape s = q.getShape();
    long b = s.get(0);
    long heads = s.get(1);
    long t = s.get(2);
    long d = s.get(3);
    long kvHeads = k.getShape().get(1);
    NDArray kk = repeatKv(k, heads / kvHeads); // [B,H,T,D]
    NDArray vv = repeatKv(v, heads / kvHeads);
    NDArray scores = Ops.mul(q.matMul(kk.transpose(0, 1, 3, 2)), 1.0 / Math.sqrt(d)); // [B,H,T,T]
    scores = scores.add(mask.additive());
    NDArray weights =
        scores.getDataType() == DataType.FLOAT32
            ? scores.softmax(3)
            : Ops.castWithGrad(
                Ops.castWithGrad(scores, DataType.FLOAT32).softmax(3), scores.getDataType());
    NDArray out = weights.matMul(vv); // [B,H,T,D]
    assert out.getShape().equals(new Shape(b, heads, t, d));
    return out;
  }

  /** [B, KV, T, D] → [B, KV·n, T, D], each KV head repeated n times (transformers' repeat_kv). */
  public static NDArray repeatKv(NDArray x, long n) {
    if (n == 1) {
      return x;
    }
    Shape s = x.getShape();
    return x.expandDims(2)
        .broadcast(new Shape(s.get(0), s.get(1), n, s.get(2), s.get(3)))
        .reshape(s.get(0), s.get(1) * n, s.get(2), s.get(3));
  }

  @Override
  public String name() {
    return "plain";
  }
}
