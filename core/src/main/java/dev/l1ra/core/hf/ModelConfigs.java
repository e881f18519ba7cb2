package dev.l1ra.core.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a Hugging Face {@code config.json} into a {@link ModelConfig}. Both layouts are accepted:
 * transformers 5 ({@code rope_parameters}) and 4.x ({@code rope_theta} + {@code rope_scaling}).
 */
public final class ModelConfigs {
  private ModelConfigs() {}

  /** Reads {@code config.json} of a model folder, or the file itself when given one. */
  public static ModelConfig load(Path dirOrFile) {
    Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "model config "
              + file
              + " does not exist; point the model path at a Hugging Face model folder");
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "model config " + file + " is not valid JSON: " + e.getMessage(), e);
    }
    try {
      return parse(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("model config " + file + ": " + e.getMessage(), e);
    }
  }

  /** Parses the JSON tree of a config.json. */
  public static ModelConfig parse(JsonNode c) {
    String type = text(c, "model_type", "");
    ModelFamily family = ModelFamily.of(type);
    String act = text(c, "hidden_act", "silu");
    if (!act.equals("silu")) {
      throw new IllegalArgumentException(
          "hidden_act \"" + act + "\" is not supported; only silu (SwiGLU)");
    }
    int hidden = required(c, "hidden_size");
    int heads = required(c, "num_attention_heads");
    int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
    return new ModelConfig(
        type,
        required(c, "vocab_size"),
        hidden,
        required(c, "intermediate_size"),
        required(c, "num_hidden_layers"),
        heads,
        c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads,
        headDim,
        c.path("rms_norm_eps").asDouble(1e-6),
        rope(c),
        c.path("tie_word_embeddings").asBoolean(false),
        biased(c, family),
        c.path("max_position_embeddings").asInt(4096),
        slidingWindow(c, family),
        c.path("bos_token_id").asInt(1),
        eos(c),
        c.hasNonNull("pad_token_id") ? c.get("pad_token_id").asInt() : -1,
        c.hasNonNull("dtype") ? c.get("dtype").asText() : text(c, "torch_dtype", "float32"));
  }

  private static RopeScaling rope(JsonNode c) {
    JsonNode params = c.get("rope_parameters");
    JsonNode scaling;
    double theta;
    if (params != null && params.isObject()) {
      scaling = params;
      theta = params.path("rope_theta").asDouble(c.path("rope_theta").asDouble(10000.0));
    } else {
      scaling = c.get("rope_scaling");
      theta = c.path("rope_theta").asDouble(10000.0);
    }
    if (scaling == null || scaling.isNull()) {
      return RopeScaling.plain(theta);
    }
    String type =
        scaling.hasNonNull("rope_type")
            ? scaling.get("rope_type").asText()
            : scaling.path("type").asText("default");
    return new RopeScaling(
        theta,
        type,
        scaling.path("factor").asDouble(1.0),
        scaling.path("low_freq_factor").asDouble(0),
        scaling.path("high_freq_factor").asDouble(0),
        scaling.path("original_max_position_embeddings").asInt(0));
  }

  /** The attention window in tokens, 0 for full causal attention (see {@link ModelFamily}). */
  private static int slidingWindow(JsonNode c, ModelFamily family) {
    boolean on = family.slidingWindowAlwaysOn() || c.path("use_sliding_window").asBoolean(false);
    return on && c.hasNonNull("sliding_window") ? c.get("sliding_window").asInt() : 0;
  }

  private static Set<LinearKind> biased(JsonNode c, ModelFamily family) {
    Set<LinearKind> out = EnumSet.noneOf(LinearKind.class);
    if (family.qkvBias()) {
      out.addAll(List.of(LinearKind.Q, LinearKind.K, LinearKind.V));
    } else if (c.path("attention_bias").asBoolean(false)) {
      out.addAll(List.of(LinearKind.Q, LinearKind.K, LinearKind.V, LinearKind.O));
    }
    if (c.path("mlp_bias").asBoolean(false)) {
      out.addAll(List.of(LinearKind.GATE, LinearKind.UP, LinearKind.DOWN));
    }
    return out;
  }

  private static List<Integer> eos(JsonNode c) {
    JsonNode e = c.get("eos_token_id");
    List<Integer> out = new ArrayList<>();
    if (e != null && e.isArray()) {
      e.forEach(n -> out.add(n.asInt()));
    } else if (e != null && !e.isNull()) {
      out.add(e.asInt());
    }
    return out;
  }

  private static int required(JsonNode c, String key) {
    JsonNode n = c.get(key);
    if (n == null || !n.canConvertToInt()) {
      throw new IllegalArgumentException("config key " + key + " is missing or not an integer");
    }
    return n.asInt();
  }

  private static String text(JsonNode c, String key, String dflt) {
    JsonNode n = c.get(key);
    return n == null || n.isNull() ? dflt : n.asText();
  }
}
