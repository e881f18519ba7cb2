package dev.l1ra.core.hf;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a Llama-family decoder, read from a Hugging Face {@code config.json} by
 * {@link ModelConfigs}. Only what the model needs; validated on construction.
 *
 * @param modelType {@code llama}, {@code mistral} or {@code qwen2} (a {@link ModelFamily})
 * @param headDim per-head dimension ({@code head_dim}, else hidden/heads)
 * @param biased projections that carry a bias (qwen2: q, k, v; llama: per attention_bias/mlp_bias)
 * @param slidingWindow attention window in tokens, 0 for full causal attention
 * @param eosTokenIds one or more end-of-sequence ids
 */
public record ModelConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    double rmsNormEps,
    RopeScaling rope,
    boolean tieWordEmbeddings,
    Set<LinearKind> biased,
    int maxPositionEmbeddings,
    int slidingWindow,
    int bosTokenId,
    List<Integer> eosTokenIds,
    int padTokenId,
    String torchDtype) {

  public ModelConfig {
    ModelFamily.of(modelType); // an unsupported type is named with the supported ones
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numLayers);
    positive("num_attention_heads", numHeads);
    positive("num_key_value_heads", numKvHeads);
    positive("head_dim", headDim);
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads ("
              + numHeads
              + ") must be a multiple of num_key_value_heads ("
              + numKvHeads
              + ")");
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException(
          "head_dim must be even for rotary embeddings, got " + headDim);
    }
    if (!(rmsNormEps > 0)) {
      throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
    }
    biased = biased.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(biased));
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  private static void positive(String key, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException("config key " + key + " must be > 0, got " + v);
    }
  }

  /** The family of {@link #modelType}. */
  public ModelFamily family() {
    return ModelFamily.of(modelType);
  }

  /** Query heads per key/value head (grouped-query attention). */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Parameters of the base model (embeddings, layers, norms, lm_head unless tied). */
  public long baseParameters() {
    long perLayer = 2L * hiddenSize; // two RMSNorm weights
    for (LinearKind k : LinearKind.values()) {
      perLayer += (long) k.inFeatures(this) * k.outFeatures(this);
      if (biased.contains(k)) {
        perLayer += k.outFeatures(this);
      }
    }
    long embed = (long) vocabSize * hiddenSize;
    return embed + (tieWordEmbeddings ? 0 : embed) + hiddenSize + perLayer * numLayers;
  }

  /** A copy with another layer count (benchmarks and tests build shallow models of real shapes). */
  public ModelConfig withNumLayers(int layers) {
    return new ModelConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        layers,
        numHeads,
        numKvHeads,
        headDim,
        rmsNormEps,
        rope,
        tieWordEmbeddings,
        biased,
        maxPositionEmbeddings,
        slidingWindow,
        bosTokenId,
        eosTokenIds,
        padTokenId,
        torchDtype);
  }
}
