package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.lora.PeftAdapterConfig;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.SafetensorsException;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import dev.l1ra.core.safetensors.TensorInfo;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.model.engine.Ops;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Import and export of PEFT LoRA adapters: {@code adapter_config.json} + {@code
 * adapter_model.safetensors}. Export folds L1RA gates into B and writes ranks and effective alphas
 * as {@code rank_pattern}/{@code alpha_pattern}, so PEFT (and merge tools) load it as plain LoRA.
 */
public final class PeftAdapters {
  private PeftAdapters() {}

  /** An adapter read from disk: its settings as written and the adapters themselves. */
  public record Loaded(LoraSettings settings, AdapterSet adapters) {}

  /**
   * Loads a PEFT LoRA adapter folder for a model. Every module the config targets must have its A
   * and B with the resolved shapes; a tensor the config does not explain is an error.
   */
  public static Loaded load(Path dir, ModelConfig model, NDManager manager) {
    LoraSettings settings = PeftAdapterConfig.read(dir);
    AdapterLayout layout;
    try {
      layout = AdapterLayout.resolve(model, settings);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("adapter " + dir + ": " + e.getMessage(), e);
    }
    Path weights = dir.resolve(PeftAdapterConfig.WEIGHTS);
    List<Adapter> list = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(weights)) {
      checkNoStrayTensors(f, layout);
      for (AdapterSpec s : layout.specs()) {
        NDArray a = read(f, manager, PeftNames.loraA(s.id()), s.rank(), s.in());
        NDArray b = read(f, manager, PeftNames.loraB(s.id()), s.out(), s.rank());
        list.add(new LoraAdapter(s, a, b, null));
      }
    } catch (RuntimeException e) {
      list.forEach(Adapter::close);
      throw e;
    }
    return new Loaded(settings, new AdapterSet(list, settings.dropout()));
  }

  private static void checkNoStrayTensors(SafetensorsFile f, AdapterLayout layout) {
    Set<String> expected = new HashSet<>();
    layout
        .modules()
        .forEach(id -> expected.addAll(List.of(PeftNames.loraA(id), PeftNames.loraB(id))));
    List<String> stray = f.names().stream().filter(n -> !expected.contains(n)).sorted().toList();
    if (!stray.isEmpty()) {
      throw new SafetensorsException(
          "safetensors file "
              + f.path()
              + " holds "
              + stray.size()
              + " tensor(s) that adapter_config.json does not target, e.g. \""
              + stray.get(0)
              + "\"; the config and weights do not belong together");
    }
  }

  private static NDArray read(SafetensorsFile f, NDManager m, String name, int rows, int cols) {
    TensorInfo info = f.info(name);
    if (!Arrays.equals(info.shape(), new long[] {rows, cols})) {
      throw new SafetensorsException(
          "safetensors file "
              + f.path()
              + ", tensor \""
              + name
              + "\": shape "
              + Arrays.toString(info.shape())
              + " but adapter_config.json and the model give ["
              + rows
              + ", "
              + cols
              + "]");
    }
    return Ops.engineOwned(m.create(f.floats(name), new Shape(rows, cols)));
  }

  /**
   * Writes a PEFT adapter folder atomically: both files go to a temporary sibling folder that
   * replaces {@code dir} at the end, so an earlier export survives a failure.
   *
   * @param baseModel recorded as base_model_name_or_path
   * @param modelClass e.g. {@code LlamaForCausalLM} for auto_mapping, or null
   */
  public static void save(AdapterSet adapters, Path dir, String baseModel, String modelClass) {
    save(adapters, dir, baseModel, modelClass, Map.of());
  }

  /** The file beside the PEFT files that says where the adapter came from. */
  public static final String PROVENANCE = "provenance.json";

  /**
   * As {@link #save(AdapterSet, Path, String, String)}, with what the adapter was trained from
   * (versions, commit, data fingerprint): written as {@value #PROVENANCE} in the folder and as
   * {@code l1ra.*} entries of the safetensors metadata (PEFT reads neither).
   */
  public static void save(
      AdapterSet adapters,
      Path dir,
      String baseModel,
      String modelClass,
      Map<String, String> provenance) {
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
    provenance.forEach((k, v) -> w.metadata("l1ra." + k, v));
    List<AdapterSpec> exported = new ArrayList<>();
    Map<String, SafetensorsWriter.Tensor> tensors = new TreeMap<>();
    for (Adapter any : adapters.all()) {
      LoraAdapter lora = any.asLora(any.down().getManager());
      try {
        tensors.put(PeftNames.loraA(lora.id()), f32(lora.a()));
        try (NDArray fb = lora.foldedB()) {
          tensors.put(PeftNames.loraB(lora.id()), f32(fb));
        }
        exported.add(lora.spec().withAlpha(effectiveAlpha(lora)));
      } finally {
        if (lora != any) {
          lora.close();
        }
      }
    }
    tensors.forEach(w::put);
    AdapterLayout layout = new AdapterLayout(exported);
    ObjectNode config =
        PeftAdapterConfig.forLayout(layout, baseModel, adapters.dropout(), modelClass);
    verifyResolves(config, layout);
    Path tmp = AtomicFiles.tempDirectoryBeside(dir);
    w.write(tmp.resolve(PeftAdapterConfig.WEIGHTS));
    PeftAdapterConfig.write(config, tmp.resolve(PeftAdapterConfig.FILE));
    if (!provenance.isEmpty()) {
      writeProvenance(tmp.resolve(PROVENANCE), provenance);
    }
    AtomicFiles.replaceDirectory(tmp, dir);
  }

  private static void writeProvenance(Path file, Map<String, String> provenance) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode n = json.createObjectNode();
    provenance.forEach(n::put);
    try {
      AtomicFiles.write(file, json.writeValueAsBytes(n));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The alpha that gives PEFT the scaling this adapter actually uses: the scaling is fixed at
   * creation (alpha/r0), so after a rank change to r the exported alpha is s·r (s·√r for rsLoRA).
   */
  static double effectiveAlpha(LoraAdapter a) {
    AdapterSpec s = a.spec();
    double r = s.rslora() ? Math.sqrt(s.rank()) : s.rank();
    double alpha = a.scaling() * r;
    // keep the configured alpha exactly when the scaling is unchanged
    return Math.abs(alpha - s.alpha()) <= 1e-6 * Math.max(1, s.alpha()) ? s.alpha() : alpha;
  }

  private static void verifyResolves(ObjectNode config, AdapterLayout expected) {
    // the config must resolve back to exactly these ranks and alphas under PEFT's rules
    LoraSettings back = PeftAdapterConfig.parse(config);
    for (AdapterSpec s : expected.specs()) {
      int r = back.rankOf(s.id().hfName());
      double alpha = back.alphaOf(s.id().hfName());
      if (r != s.rank() || Math.abs(alpha - s.alpha()) > 1e-9 * Math.max(1, s.alpha())) {
        throw new IllegalStateException(
            "exported adapter_config.json would give "
                + s.id()
                + " rank "
                + r
                + " alpha "
                + alpha
                + " instead of "
                + s.rank()
                + "/"
                + s.alpha());
      }
    }
  }

  private static SafetensorsWriter.Tensor f32(NDArray x) {
    NDArray f = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    ByteBuffer b = ByteBuffer.wrap(f.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    return new SafetensorsWriter.Tensor(DType.F32, f.getShape().getShape(), b);
  }
}
