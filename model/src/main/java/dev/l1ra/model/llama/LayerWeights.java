package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import dev.l1ra.core.hf.LinearKind;
import java.util.EnumMap;
import java.util.Map;

/**
 * The frozen weights of one decoder layer: two RMSNorm weights and seven projections. With fused
 * projections, {@code qkv} ([q; k; v] rows) and {@code gateUp} ([gate; up] rows) hold the weights
 * and the q, k, v, gate and up entries are row views into them (no copy).
 */
public record LayerWeights(
    NDArray inputNorm,
    NDArray postAttentionNorm,
    Map<LinearKind, Linear> projections,
    Linear qkv,
    Linear gateUp) {

  public LayerWeights(
      NDArray inputNorm, NDArray postAttentionNorm, Map<LinearKind, Linear> projections) {
    this(inputNorm, postAttentionNorm, projections, null, null);
  }

  public LayerWeights {
    if (projections.size() != LinearKind.values().length) {
      throw new IllegalArgumentException("a decoder layer needs all seven projections");
    }
    projections = new EnumMap<>(projections);
  }

  public Linear projection(LinearKind kind) {
    return projections.get(kind);
  }
}
