package dev.l1ra.model.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.lora.PeftAdapterConfig;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Export → import is bit-identical, and what we write is what PEFT writes for the same adapter. */
class PeftRoundTripTest {
  /** Keys whose values legitimately differ from the fixture, with the reason. */
  static final Set<String> NOT_COMPARED =
      Set.of(
          "base_model_name_or_path", // PEFT records the folder it was loaded from
          "init_lora_weights", // how A was initialised; irrelevant once trained ("gaussian" there)
          "task_type", // we write CAUSAL_LM so PEFT builds PeftModelForCausalLM; the fixture used
          // None
          "target_modules"); // PEFT writes a set (arbitrary order); compared as a set below

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"lora-r4", "lora-pattern", "rslora-r4"})
  void exportImportIsBitIdenticalAndMatchesPeftFormat(String adapter) throws Exception {
    Path src = Fixtures.model("tiny-llama3").resolve(adapter);
    ModelConfig model = ModelConfigs.load(Fixtures.model("tiny-llama3"));
    Path out = tmp.resolve("out");
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdapterSet set = PeftAdapters.load(src, model, m).adapters()) {
      PeftAdapters.save(set, out, "tiny-llama3", "LlamaForCausalLM");
    }
    try (SafetensorsFile a = SafetensorsFile.open(src.resolve(PeftAdapterConfig.WEIGHTS));
        SafetensorsFile b = SafetensorsFile.open(out.resolve(PeftAdapterConfig.WEIGHTS))) {
      assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()), "same tensor keys");
      for (String n : a.names()) {
        assertArrayEquals(a.info(n).shape(), b.info(n).shape(), n);
        assertEquals(a.bytes(n), b.bytes(n), n + " bytes identical");
      }
      assertEquals("pt", b.metadata().get("format"));
    }
    ObjectMapper json = new ObjectMapper();
    JsonNode peft = json.readTree(src.resolve(PeftAdapterConfig.FILE).toFile());
    JsonNode ours = json.readTree(out.resolve(PeftAdapterConfig.FILE).toFile());
    assertEquals(
        fieldNames(peft),
        fieldNames(ours),
        "same config keys as PEFT " + PeftAdapterConfig.PEFT_VERSION);
    for (Iterator<String> it = peft.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!NOT_COMPARED.contains(k)) {
        assertEquals(peft.get(k), ours.get(k), "adapter_config.json key " + k);
      }
    }
    assertEquals(textSet(peft.get("target_modules")), textSet(ours.get("target_modules")));
    // and the written adapter loads back to the same settings
    assertEquals(
        PeftAdapterConfig.read(src).rankPattern().size(),
        PeftAdapterConfig.read(out).rankPattern().size());
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora-pattern"})
  void anAdapterWithStrayTensorsIsRefused(String adapter) throws Exception {
    Path src = Fixtures.model("tiny-llama3").resolve(adapter);
    Path bad = tmp.resolve("bad");
    Files.createDirectories(bad);
    Files.copy(src.resolve(PeftAdapterConfig.WEIGHTS), bad.resolve(PeftAdapterConfig.WEIGHTS));
    ObjectNode cfg =
        (ObjectNode) new ObjectMapper().readTree(src.resolve(PeftAdapterConfig.FILE).toFile());
    cfg.putArray("target_modules").add("q_proj");
    cfg.putObject("alpha_pattern");
    cfg.putObject("rank_pattern");
    cfg.put("r", 2);
    Files.writeString(bad.resolve(PeftAdapterConfig.FILE), cfg.toString());
    ModelConfig model = ModelConfigs.load(Fixtures.model("tiny-llama3"));
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      RuntimeException e =
          assertThrows(RuntimeException.class, () -> PeftAdapters.load(bad, model, m));
      assertTrue(e.getMessage().contains("does not target"), e.getMessage());
    }
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> s = new TreeSet<>();
    n.fieldNames().forEachRemaining(s::add);
    return s;
  }

  private static Set<String> textSet(JsonNode n) {
    Set<String> s = new TreeSet<>();
    n.forEach(x -> s.add(x.asText()));
    return s;
  }
}
