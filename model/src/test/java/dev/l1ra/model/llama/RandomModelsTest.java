package dev.l1ra.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModelFamily;
import dev.l1ra.core.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Generated model folders read back as the config they were written from, for every family. */
class RandomModelsTest {

  /** The tiny shape as a model of {@code family}, with the family's biases and a window. */
  static ModelConfig tiny(ModelFamily family) {
    ModelConfig t = RandomModels.shape("tiny", 64);
    return new ModelConfig(
        family.modelType(),
        t.vocabSize(),
        t.hiddenSize(),
        t.intermediateSize(),
        t.numLayers(),
        t.numHeads(),
        t.numKvHeads(),
        t.headDim(),
        t.rmsNormEps(),
        t.rope(),
        t.tieWordEmbeddings(),
        family.qkvBias() ? Set.of(LinearKind.Q, LinearKind.K, LinearKind.V) : Set.of(),
        t.maxPositionEmbeddings(),
        family == ModelFamily.LLAMA ? 0 : 32,
        t.bosTokenId(),
        t.eosTokenIds(),
        t.padTokenId(),
        t.torchDtype());
  }

  @ParameterizedTest
  @EnumSource(ModelFamily.class)
  void configJsonNamesTheFamilysArchitectureAndReadsBack(ModelFamily family) throws IOException {
    ModelConfig c = tiny(family);
    JsonNode json = new ObjectMapper().readTree(RandomModels.configJson(c));
    assertEquals(family.architecture(), json.get("architectures").get(0).asText());
    assertEquals(c, ModelConfigs.parse(json));
  }

  @Test
  void biasedProjectionsGetTheirBiasTensors(@TempDir Path dir) {
    RandomModels.write(dir, tiny(ModelFamily.QWEN2), 1);
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      assertTrue(f.names().contains("model.layers.0.self_attn.q_proj.bias"), "q bias");
      assertTrue(!f.names().contains("model.layers.0.self_attn.o_proj.bias"), "no o bias");
    }
    assertEquals(tiny(ModelFamily.QWEN2), ModelConfigs.load(dir));
  }
}
