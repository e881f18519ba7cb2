package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.ModelConfig;

/**
 * Rotary position embeddings in transformers' "rotate_half" layout. The inverse frequencies are
 * built once on the device; cos/sin are computed per batch from its position ids.
 */
public final class Rope {
  private final NDArray invFreq; // [D/2] float32, owned by the model manager

  public Rope(ModelConfig config, NDManager manager) {
    float[] inv = config.rope().inverseFrequencies(config.headDim());
    this.invFreq = manager.create(inv, new Shape(1, 1, inv.length));
  }

  /**
   * cos and sin for the given positions.
   *
   * @param positions [B, T] int64 position ids
   * @param dtype the compute dtype of q and k
   * @return cos, sin, each [B, 1, T, D]
   */
  public NDList cosSin(NDArray positions, DataType dtype) {
    // [B,T,1] * [1,1,D/2] -> [B,T,D/2], in float32 as transformers does
    NDArray freqs = positions.toType(DataType.FLOAT32, false).expandDims(2).mul(invFreq);
    NDArray emb = freqs.concat(freqs, 2).expandDims(1); // [B,1,T,D]
    return new NDList(emb.cos().toType(dtype, false), emb.sin().toType(dtype, false));
  }

  /** x·cos + rotate_half(x)·sin; x [B, heads, T, D]. */
  public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
    NDList halves = x.split(2, 3);
    NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
    return x.mul(cos).add(rotated.mul(sin));
  }
}
