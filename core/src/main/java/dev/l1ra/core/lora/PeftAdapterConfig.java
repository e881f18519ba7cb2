package dev.l1ra.core.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * PEFT's {@code adapter_config.json} for LoRA: reading it into {@link LoraSettings} and writing one
 * for an {@link AdapterLayout} with the same keys PEFT 0.21 writes. Heterogeneous ranks travel as
 * {@code rank_pattern}/{@code alpha_pattern} with full module names, never as ADALORA.
 */
public final class PeftAdapterConfig {
  public static final String FILE = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  /** The PEFT version whose format we write. */
  public static final String PEFT_VERSION = "0.21.0";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PeftAdapterConfig() {}

  /** Reads {@code adapter_config.json} from an adapter folder (or the file itself). */
  public static LoraSettings read(Path dirOrFile) {
    Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE) : dirOrFile;
    JsonNode c;
    try {
      c = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "adapter config " + file + " cannot be read as JSON: " + e.getMessage(), e);
    }
    try {
      return parse(c);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("adapter config " + file + ": " + e.getMessage(), e);
    }
  }

  /** Parses the JSON of a PEFT LoRA adapter config, refusing features we do not implement. */
  public static LoraSettings parse(JsonNode c) {
    String type = c.path("peft_type").asText("");
    if (!type.equals("LORA")) {
      throw new IllegalArgumentException(
          "peft_type is \""
              + type
              + "\"; only LORA adapters can be loaded (export AdaLoRA as LORA with rank_pattern)");
    }
    refuseIfTrue(c, "use_dora", "DoRA");
    refuseIfTrue(c, "fan_in_fan_out", "fan_in_fan_out (Conv1D models)");
    refuseIfTrue(c, "lora_bias", "lora_bias");
    refuseIfTrue(c, "use_qalora", "QALoRA");
    if (!c.path("bias").asText("none").equals("none")) {
      throw new IllegalArgumentException(
          "bias \"" + c.get("bias").asText() + "\" is not supported; only \"none\"");
    }
    if (c.hasNonNull("modules_to_save") && c.get("modules_to_save").size() > 0) {
      throw new IllegalArgumentException(
          "modules_to_save is not supported: " + c.get("modules_to_save"));
    }
    JsonNode t = c.get("target_modules");
    List<String> targets = new ArrayList<>();
    boolean regex = false;
    if (t == null || t.isNull()) {
      throw new IllegalArgumentException("target_modules is missing");
    } else if (t.isTextual()) {
      targets.add(t.asText());
      regex = !t.asText().equals(LoraSettings.ALL_LINEAR);
    } else {
      t.forEach(n -> targets.add(n.asText()));
    }
    List<Integer> layers = new ArrayList<>();
    JsonNode lt = c.get("layers_to_transform");
    if (lt != null && lt.isInt()) {
      layers.add(lt.asInt());
    } else if (lt != null && lt.isArray()) {
      lt.forEach(n -> layers.add(n.asInt()));
    }
    return new LoraSettings(
        c.path("r").asInt(8),
        c.path("lora_alpha").asDouble(8),
        targets,
        regex,
        mapOf(c.get("rank_pattern"), JsonNode::asInt),
        mapOf(c.get("alpha_pattern"), JsonNode::asDouble),
        c.path("use_rslora").asBoolean(false),
        c.path("lora_dropout").asDouble(0),
        layers);
  }

  private static void refuseIfTrue(JsonNode c, String key, String what) {
    if (c.path(key).asBoolean(false)) {
      throw new IllegalArgumentException(key + " is set: " + what + " is not supported");
    }
  }

  private static <V> Map<String, V> mapOf(JsonNode n, Function<JsonNode, V> value) {
    Map<String, V> out = new LinkedHashMap<>();
    if (n != null && n.isObject()) {
      n.fields().forEachRemaining(e -> out.put(e.getKey(), value.apply(e.getValue())));
    }
    return out;
  }

  /**
   * PEFT-compatible config for an adapter layout: the commonest rank and alpha become {@code r} and
   * {@code lora_alpha}; every module that differs is listed by full name in {@code
   * rank_pattern}/{@code alpha_pattern}. The result is checked by resolving it again.
   */
  public static ObjectNode forLayout(
      AdapterLayout layout, String baseModel, double dropout, String modelClass) {
    int r = commonest(layout, s -> (double) s.rank()).intValue();
    double alpha = commonest(layout, AdapterSpec::alpha);
    boolean rslora = layout.specs().get(0).rslora();
    Map<String, Integer> ranks =
        patterns(layout, s -> (double) s.rank(), r).entrySet().stream()
            .collect(
                Collectors.toMap(
                    Map.Entry::getKey, e -> e.getValue().intValue(), (a, b) -> a, TreeMap::new));
    Map<String, Double> alphas = patterns(layout, AdapterSpec::alpha, alpha);
    List<String> targets = layout.kinds().stream().map(LinearKind::hfName).toList();
    List<Integer> layers =
        layout.modules().stream().map(ModuleId::layer).distinct().sorted().toList();
    ObjectNode c = JSON.createObjectNode();
    c.putNull("alora_invocation_tokens");
    ObjectNode ap = c.putObject("alpha_pattern");
    alphas.forEach((k, v) -> putNumber(ap, k, v));
    c.putNull("arrow_config");
    if (modelClass != null) {
      ObjectNode auto = c.putObject("auto_mapping");
      auto.put("base_model_class", modelClass);
      auto.put(
          "parent_library",
          "transformers.models."
              + modelPackage(modelClass)
              + ".modeling_"
              + modelPackage(modelClass));
    } else {
      c.putNull("auto_mapping");
    }
    c.put("base_model_name_or_path", baseModel);
    c.put("bias", "none");
    c.putNull("corda_config");
    c.put("ensure_weight_tying", false);
    c.putNull("eva_config");
    c.putNull("exclude_modules");
    c.put("fan_in_fan_out", false);
    c.put("inference_mode", true);
    c.put("init_lora_weights", true);
    c.putNull("kasa_config");
    c.putNull("layer_replication");
    c.putNull("layers_pattern");
    c.putNull("layers_to_transform");
    c.putObject("loftq_config");
    putNumber(c, "lora_alpha", alpha);
    c.put("lora_bias", false);
    c.put("lora_dropout", dropout);
    c.putNull("lora_ga_config");
    c.putNull("megatron_config");
    c.put("megatron_core", "megatron.core");
    c.putNull("modules_to_save");
    c.putNull("monteclora_config");
    c.put("peft_type", "LORA");
    c.put("peft_version", PEFT_VERSION);
    c.put("qalora_group_size", 16);
    c.put("r", r);
    ObjectNode rp = c.putObject("rank_pattern");
    ranks.forEach(rp::put);
    c.putNull("revision");
    targets.forEach(c.putArray("target_modules")::add);
    c.putNull("target_parameters");
    c.put("task_type", "CAUSAL_LM");
    c.putNull("trainable_token_indices");
    c.putNull("use_bdlora");
    c.put("use_dora", false);
    c.put("use_qalora", false);
    c.put("use_rslora", rslora);
    c.putNull("velora_config");
    if (layers.size() != layersOf(layout)) {
      layers.forEach(c.putArray("layers_to_transform")::add);
    }
    return c;
  }

  /**
   * Pattern entries for the modules whose value differs from the default, keyed so that no two keys
   * match the same module (PEFT saves patterns sorted by key and takes the first match, so
   * overlapping keys could resolve differently after a reload): a projection whose modules all
   * share one non-default value gets its short key ({@code o_proj}); otherwise each differing
   * module gets {@code layers.{i}.{self_attn|mlp}.{proj}}. Sorted by key, as PEFT writes them.
   */
  private static Map<String, Double> patterns(
      AdapterLayout layout, Function<AdapterSpec, Double> value, double dflt) {
    Map<String, Double> out = new TreeMap<>();
    for (LinearKind kind : layout.kinds()) {
      List<AdapterSpec> ofKind =
          layout.specs().stream().filter(s -> s.id().kind() == kind).toList();
      Set<Double> values = ofKind.stream().map(value).collect(Collectors.toSet());
      if (values.size() == 1 && !values.contains(dflt)) {
        out.put(kind.hfName(), values.iterator().next());
        continue;
      }
      for (AdapterSpec s : ofKind) {
        if (value.apply(s) != dflt) {
          out.put(s.id().hfName().substring("model.".length()), value.apply(s));
        }
      }
    }
    return out;
  }

  private static int layersOf(AdapterLayout layout) {
    return layout.modules().stream().mapToInt(ModuleId::layer).max().orElse(-1) + 1;
  }

  private static String modelPackage(String modelClass) {
    return modelClass.replace("ForCausalLM", "").toLowerCase(Locale.ROOT);
  }

  /** Writes an integral alpha as an integer (PEFT writes {@code "lora_alpha": 8}). */
  private static void putNumber(ObjectNode n, String key, double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) {
      n.put(key, (long) v);
    } else {
      n.put(key, v);
    }
  }

  private static Double commonest(AdapterLayout layout, Function<AdapterSpec, Double> f) {
    Map<Double, Integer> counts = new LinkedHashMap<>();
    layout.specs().forEach(s -> counts.merge(f.apply(s), 1, Integer::sum));
    return counts.entrySet().stream()
        .max(
            Comparator.<Map.Entry<Double, Integer>>comparingInt(Map.Entry::getValue)
                .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
        .orElseThrow()
        .getKey();
  }

  /** Writes a config node as pretty JSON, atomically. */
  public static void write(ObjectNode config, Path file) {
    try {
      AtomicFiles.write(file, JSON.writeValueAsBytes(config));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write adapter config " + file + ": " + e, e);
    }
  }
}
