package dev.l1ra.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.testing.Fixtures;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PEFT's matching rules for target_modules, rank_pattern and alpha_pattern. */
class AdapterLayoutTest {
  static final ModelConfig TINY = ModelConfigs.load(Fixtures.model("tiny-llama3"));
  static final List<String> ALL =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  @Test
  void fixturePatternResolvesAsPeftDid() {
    LoraSettings s = PeftAdapterConfig.read(Fixtures.model("tiny-llama3").resolve("lora-pattern"));
    AdapterLayout l = AdapterLayout.resolve(TINY, s);
    assertEquals(14, l.size());
    assertEquals(2, l.get(new ModuleId(0, LinearKind.Q)).rank());
    assertEquals(2, l.get(new ModuleId(1, LinearKind.Q)).rank());
    assertEquals(
        4, l.get(new ModuleId(0, LinearKind.DOWN)).rank(), "layers.1 key must not hit layer 0");
    assertEquals(7, l.get(new ModuleId(1, LinearKind.DOWN)).rank());
    assertEquals(3.0, l.get(new ModuleId(0, LinearKind.O)).alpha());
    assertEquals(3.0 / 4, l.get(new ModuleId(1, LinearKind.O)).scaling());
    assertEquals(8.0 / 7, l.get(new ModuleId(1, LinearKind.DOWN)).scaling(), 1e-15);
  }

  @Test
  void firstMatchingKeyInOrderWins() {
    Map<String, Integer> ranks = new LinkedHashMap<>();
    ranks.put("self_attn.q_proj", 3);
    ranks.put("layers.0.self_attn.q_proj", 9);
    LoraSettings s = LoraSettings.uniform(4, 8, ALL).withRankPattern(ranks);
    // both keys match layer 0's q_proj; PEFT takes the first in insertion order
    assertThrows(
        IllegalArgumentException.class,
        () -> AdapterLayout.resolve(TINY, s),
        "second key matches nothing first");
    Map<String, Integer> reversed = new LinkedHashMap<>();
    reversed.put("layers.0.self_attn.q_proj", 9);
    reversed.put("self_attn.q_proj", 3);
    AdapterLayout l =
        AdapterLayout.resolve(TINY, LoraSettings.uniform(4, 8, ALL).withRankPattern(reversed));
    assertEquals(9, l.get(new ModuleId(0, LinearKind.Q)).rank());
    assertEquals(3, l.get(new ModuleId(1, LinearKind.Q)).rank());
  }

  @Test
  void keysMatchOnlyAtDotBoundaries() {
    LoraSettings s = LoraSettings.uniform(4, 8, ALL).withRankPattern(Map.of("proj", 2));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AdapterLayout.resolve(TINY, s));
    assertTrue(
        e.getMessage().contains("\"proj\"") && e.getMessage().contains("q_proj"), e.getMessage());
  }

  @Test
  void regexKeysWorkAsInPeft() {
    LoraSettings s = LoraSettings.uniform(4, 8, ALL).withRankPattern(Map.of("(q|k)_proj", 6));
    AdapterLayout l = AdapterLayout.resolve(TINY, s);
    assertEquals(6, l.get(new ModuleId(1, LinearKind.K)).rank());
    assertEquals(4, l.get(new ModuleId(1, LinearKind.V)).rank());
  }

  @Test
  void targetThatMatchesNothingIsAnError() {
    LoraSettings s = LoraSettings.uniform(4, 8, List.of("q_proj", "q_prj"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AdapterLayout.resolve(TINY, s));
    assertTrue(
        e.getMessage().contains("target_modules") && e.getMessage().contains("\"q_prj\""),
        e.getMessage());
  }

  @Test
  void alphaPatternKeyThatMatchesNothingIsAnError() {
    LoraSettings s =
        LoraSettings.uniform(4, 8, List.of("q_proj")).withAlphaPattern(Map.of("o_proj", 3.0));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AdapterLayout.resolve(TINY, s));
    assertTrue(e.getMessage().contains("alpha_pattern"), e.getMessage());
  }

  @Test
  void allLinearAndRegexTargets() {
    assertEquals(
        14, AdapterLayout.resolve(TINY, LoraSettings.uniform(4, 8, List.of("all-linear"))).size());
    LoraSettings regex =
        new LoraSettings(
            4,
            8,
            List.of(".*layers\\.1\\.mlp\\..*"),
            true,
            Map.of(),
            Map.of(),
            false,
            0,
            List.of());
    AdapterLayout l = AdapterLayout.resolve(TINY, regex);
    assertEquals(3, l.size());
    assertEquals(List.of(LinearKind.GATE, LinearKind.UP, LinearKind.DOWN), l.kinds());
  }

  @Test
  void rsloraScalingAndBudget() {
    AdapterLayout l = AdapterLayout.resolve(TINY, LoraSettings.uniform(4, 8, ALL).withRslora(true));
    assertEquals(4.0, l.specs().get(0).scaling());
    assertEquals(56, l.totalRank());
    // r·(in+out) per layer: q 4·128, k 4·96, v 4·96, o 4·128, gate 4·224, up 4·224, down 4·224
    assertEquals(2L * 4 * (128 + 96 + 96 + 128 + 224 * 3), l.parameters());
  }

  @Test
  void peftNamesRoundTrip() {
    for (ModuleId id : AdapterLayout.resolve(TINY, LoraSettings.uniform(4, 8, ALL)).modules()) {
      assertEquals(
          new PeftNames.Key(id, "lora_A"), PeftNames.parse(PeftNames.loraA(id)).orElseThrow());
      assertEquals(
          new PeftNames.Key(id, "lora_B"), PeftNames.parse(PeftNames.loraB(id)).orElseThrow());
      assertEquals(
          new PeftNames.Key(id, "lora_c"), PeftNames.parse(PeftNames.gate(id)).orElseThrow());
      assertEquals(id, ModuleId.parse(id.hfName()).orElseThrow());
    }
    assertEquals(
        new ModuleId(3, LinearKind.UP),
        PeftNames.parse("base_model.model.model.layers.3.mlp.up_proj.lora_A.default.weight")
            .orElseThrow()
            .module());
    assertTrue(PeftNames.parse("base_model.model.lm_head.lora_A.weight").isEmpty());
  }
}
