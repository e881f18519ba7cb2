package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import dev.l1ra.core.hf.LinearKind;
import java.util.EnumMap;
import java.util.Map;

/** The frozen weights of one decoder layer: two RMSNorm weights and seven projections. */
public record LayerWeights(
    NDArray inputNorm, NDArray postAttentionNorm, Map<LinearKind, Linear> projections) {

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
