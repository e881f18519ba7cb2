package dev.l1ra.core.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.testing.Fixtures;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelConfigsTest {
  private static ObjectNode llama() throws Exception {
    return (ObjectNode)
        new ObjectMapper().readTree(Fixtures.model("tiny-llama3").resolve("config.json").toFile());
  }

  @Test
  void readsTheTinyLlamaWithLlama3Rope() {
    ModelConfig c = ModelConfigs.load(Fixtures.model("tiny-llama3"));
    assertEquals("llama", c.modelType());
    assertEquals(64, c.hiddenSize());
    assertEquals(16, c.headDim());
    assertEquals(2, c.groupSize());
    assertEquals("llama3", c.rope().type());
    assertEquals(500000.0, c.rope().theta());
    assertEquals(64, c.rope().originalMaxPositions());
    assertEquals(Set.of(), c.biased());
    assertEquals(0, c.slidingWindow());
  }

  @Test
  void qwen2HasQkvBiasAndDerivedHeadDim() {
    ModelConfig c = ModelConfigs.load(Fixtures.model("tiny-qwen2"));
    assertEquals(Set.of(LinearKind.Q, LinearKind.K, LinearKind.V), c.biased());
    assertEquals(16, c.headDim());
    assertEquals("default", c.rope().type());
  }

  @Test
  void unsupportedModelTypeListsTheSupportedOnes() throws Exception {
    ObjectNode n = llama().put("model_type", "gpt2");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelConfigs.parse(n));
    assertTrue(
        e.getMessage().contains("gpt2") && e.getMessage().contains("llama, mistral, qwen2"),
        e.getMessage());
  }

  @Test
  void explicitHeadDimMayDifferFromHiddenOverHeads() throws Exception {
    ObjectNode n = llama().put("head_dim", 32);
    assertEquals(32, ModelConfigs.parse(n).headDim());
    assertEquals(128, LinearKind.Q.outFeatures(ModelConfigs.parse(n)));
  }

  @Test
  void missingRequiredKeyIsNamed() throws Exception {
    ObjectNode n = llama();
    n.remove("hidden_size");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelConfigs.parse(n));
    assertTrue(e.getMessage().contains("hidden_size"));
  }

  @Test
  void llama3ScalingMatchesTransformersFormula() {
    RopeScaling r = new RopeScaling(500000.0, "llama3", 8, 1, 4, 64);
    float[] inv = r.inverseFrequencies(16);
    float[] plain = RopeScaling.plain(500000.0).inverseFrequencies(16);
    // high frequencies (wavelength < 64/4 = 16) are untouched, low ones (> 64) divided by 8
    for (int i = 0; i < inv.length; i++) {
      double wavelen = 2 * Math.PI / plain[i];
      if (wavelen < 16) {
        assertEquals(plain[i], inv[i]);
      } else if (wavelen > 64) {
        assertEquals(plain[i] / 8, inv[i], 1e-6 * plain[i]);
      } else {
        double smooth = (64 / wavelen - 1) / 3;
        assertEquals((1 - smooth) * plain[i] / 8 + smooth * plain[i], inv[i], 1e-6 * plain[i]);
      }
    }
    assertEquals(1f, plain[0], "theta^0");
  }
}
