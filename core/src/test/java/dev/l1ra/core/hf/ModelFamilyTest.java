package dev.l1ra.core.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

class ModelFamilyTest {
  @Test
  void eachFixtureReadsAsItsFamily() {
    assertEquals(ModelFamily.LLAMA, ModelConfigs.load(Fixtures.model("tiny-llama3")).family());
    assertEquals(ModelFamily.MISTRAL, ModelConfigs.load(Fixtures.model("tiny-mistral")).family());
    assertEquals(ModelFamily.QWEN2, ModelConfigs.load(Fixtures.model("tiny-qwen2")).family());
  }

  @Test
  void architecturesAndChatFormatsAreTheFamilies() {
    assertEquals("Qwen2ForCausalLM", ModelFamily.of("qwen2").architecture());
    assertEquals("MistralForCausalLM", ModelFamily.of("mistral").architecture());
    assertEquals("LlamaForCausalLM", ModelFamily.of("llama").architecture());
    assertEquals(ChatFormat.CHATML, ModelFamily.QWEN2.chatFormat());
    assertEquals(ChatFormat.MISTRAL, ModelFamily.MISTRAL.chatFormat());
    assertEquals(ChatFormat.LLAMA3, ModelFamily.LLAMA.chatFormat());
  }

  @Test
  void unknownModelTypeListsTheSupportedOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelFamily.of("gemma"));
    assertTrue(e.getMessage().contains("[llama, mistral, qwen2]"), e.getMessage());
  }

  @Test
  void chatFormatSpellingsAndAliases() {
    assertEquals(ChatFormat.CHATML, ChatFormat.parse("qwen2"));
    assertEquals(ChatFormat.MISTRAL, ChatFormat.parse("llama2"));
    for (ChatFormat f : ChatFormat.values()) {
      assertEquals(f, ChatFormat.parse(f.toString()));
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ChatFormat.parse("alpaca"));
    assertTrue(e.getMessage().contains("[auto, llama3, mistral, chatml]"), e.getMessage());
  }
}
