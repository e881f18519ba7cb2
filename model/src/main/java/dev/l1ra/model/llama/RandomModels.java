package dev.l1ra.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModelFamily;
import dev.l1ra.core.hf.RopeScaling;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.model.engine.EngineInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Random-initialised Llama-family checkpoints of known shapes, written as a Hugging Face folder
 * (config.json + model.safetensors) by our own code: the offline quickstart and the benchmark need
 * no download. Initialisation as transformers: N(0, 0.02) for matrices, 1 for norms.
 */
public final class RandomModels {
  private RandomModels() {}

  /** Named shapes: tiny (quickstart), and real ones for benchmarks (layers overridable). */
  public static ModelConfig shape(String name, int vocab) {
    return switch (name) {
      case "tiny" -> llama(vocab, 128, 352, 4, 4, 2, 500000.0, false);
      case "small" -> llama(vocab, 512, 1408, 4, 8, 2, 500000.0, false);
      case "llama3-1b" -> llama(128256, 2048, 8192, 16, 32, 8, 500000.0, true);
      case "llama3-8b" -> llama(128256, 4096, 14336, 32, 32, 8, 500000.0, false);
      case "mistral-7b" ->
          new ModelConfig(
              ModelFamily.MISTRAL.modelType(),
              32768,
              4096,
              14336,
              32,
              32,
              8,
              128,
              1e-5,
              RopeScaling.plain(1e6),
              false,
              Set.of(),
              32768,
              0,
              1,
              List.of(2),
              -1,
              "float32");
      default ->
          throw new IllegalArgumentException(
              "unknown model shape \""
                  + name
                  + "\"; known: tiny, small, llama3-1b, llama3-8b, mistral-7b");
    };
  }

  private static ModelConfig llama(
      int vocab, int hidden, int mlp, int layers, int heads, int kv, double theta, boolean tied) {
    return new ModelConfig(
        ModelFamily.LLAMA.modelType(),
        vocab,
        hidden,
        mlp,
        layers,
        heads,
        kv,
        hidden / heads,
        1e-5,
        RopeScaling.plain(theta),
        tied,
        Set.of(),
        8192,
        0,
        1,
        List.of(2),
        0,
        "float32");
  }

  /**
   * Random weights built directly on a device (benchmarks of real shapes: nothing is written or
   * read). N(0, 0.02) matrices, unit norms, from the engine generator seeded with {@code seed};
   * q|k|v and gate|up fused as a loaded model's are.
   */
  public static LlamaWeights randomWeights(ModelConfig c, NDManager m, DataType dtype, long seed) {
    EngineInfo.engine().setRandomSeed((int) seed);
    List<LayerWeights> layers = new ArrayList<>();
    for (int i = 0; i < c.numLayers(); i++) {
      Map<LinearKind, Linear> proj = new EnumMap<>(LinearKind.class);
      for (LinearKind k : LinearKind.values()) {
        proj.put(k, new Linear(normal(m, dtype, k.outFeatures(c), k.inFeatures(c)), null));
      }
      layers.add(
          LlamaWeights.fused(
              new LayerWeights(
                  m.ones(new Shape(c.hiddenSize()), dtype),
                  m.ones(new Shape(c.hiddenSize()), dtype),
                  proj)));
    }
    NDArray embed = normal(m, dtype, c.vocabSize(), c.hiddenSize());
    NDArray head = c.tieWordEmbeddings() ? embed : normal(m, dtype, c.vocabSize(), c.hiddenSize());
    return new LlamaWeights(
        c, embed, List.copyOf(layers), m.ones(new Shape(c.hiddenSize()), dtype), head);
  }

  private static NDArray normal(NDManager m, DataType dtype, int rows, int cols) {
    return m.randomNormal(0f, 0.02f, new Shape(rows, cols), dtype);
  }

  /**
   * Writes a random model folder unless {@code dir} already holds one with the same config (so a
   * rerun keeps its weights). fp32 weights.
   */
  public static void write(Path dir, ModelConfig c, long seed) {
    Path cfg = dir.resolve("config.json");
    if (Files.isRegularFile(cfg) && Files.isRegularFile(dir.resolve("model.safetensors"))) {
      return;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
    w.put("model.embed_tokens.weight", normal(rng, c.vocabSize(), c.hiddenSize()));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      w.put(p + "input_layernorm.weight", ones(c.hiddenSize()));
      w.put(p + "post_attention_layernorm.weight", ones(c.hiddenSize()));
      for (LinearKind k : LinearKind.values()) {
        String name = p + k.parent() + "." + k.hfName();
        w.put(name + ".weight", normal(rng, k.outFeatures(c), k.inFeatures(c)));
        if (c.biased().contains(k)) {
          w.put(name + ".bias", zeros(k.outFeatures(c)));
        }
      }
    }
    w.put("model.norm.weight", ones(c.hiddenSize()));
    if (!c.tieWordEmbeddings()) {
      w.put("lm_head.weight", normal(rng, c.vocabSize(), c.hiddenSize()));
    }
    w.write(dir.resolve("model.safetensors"));
    AtomicFiles.write(cfg, configJson(c));
  }

  private static SafetensorsWriter.Tensor normal(SplittableRandom rng, int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (gaussian(rng) * 0.02);
    }
    return SafetensorsWriter.Tensor.f32(new long[] {rows, cols}, v);
  }

  private static double gaussian(SplittableRandom rng) {
    double u = rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
  }

  private static SafetensorsWriter.Tensor ones(int n) {
    float[] v = new float[n];
    Arrays.fill(v, 1f);
    return SafetensorsWriter.Tensor.f32(new long[] {n}, v);
  }

  private static SafetensorsWriter.Tensor zeros(int n) {
    return SafetensorsWriter.Tensor.f32(new long[] {n}, new float[n]);
  }

  /**
   * config.json in the transformers 4.x layout that hub checkpoints use; the family's keys (bias
   * flags, sliding window) only where they differ from its defaults.
   */
  static byte[] configJson(ModelConfig c) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode n = json.createObjectNode();
    ModelFamily family = c.family();
    n.putArray("architectures").add(family.architecture());
    n.put("model_type", c.modelType());
    n.put("vocab_size", c.vocabSize());
    n.put("hidden_size", c.hiddenSize());
    n.put("intermediate_size", c.intermediateSize());
    n.put("num_hidden_layers", c.numLayers());
    n.put("num_attention_heads", c.numHeads());
    n.put("num_key_value_heads", c.numKvHeads());
    n.put("head_dim", c.headDim());
    n.put("hidden_act", "silu");
    n.put("rms_norm_eps", c.rmsNormEps());
    n.put("rope_theta", c.rope().theta());
    n.putNull("rope_scaling");
    n.put("max_position_embeddings", c.maxPositionEmbeddings());
    n.put("tie_word_embeddings", c.tieWordEmbeddings());
    n.put("bos_token_id", c.bosTokenId());
    n.put("eos_token_id", c.eosTokenIds().get(0));
    if (c.padTokenId() >= 0) {
      n.put("pad_token_id", c.padTokenId());
    }
    n.put("torch_dtype", "float32");
    familyKeys(n, c);
    n.put("l1ra_note", "randomly initialised by l1ra-spark (RandomModels); not a pretrained model");
    try {
      return json.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Bias flags and the sliding window as {@link ModelConfigs} reads them back. */
  private static void familyKeys(ObjectNode n, ModelConfig c) {
    ModelFamily family = c.family();
    if (!family.qkvBias() && c.biased().contains(LinearKind.O)) {
      n.put("attention_bias", true);
    }
    if (c.biased().contains(LinearKind.DOWN)) {
      n.put("mlp_bias", true);
    }
    if (c.slidingWindow() > 0) {
      n.put("sliding_window", c.slidingWindow());
      if (!family.slidingWindowAlwaysOn()) {
        n.put("use_sliding_window", true);
      }
    }
  }
}
