package dev.l1ra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Ids (and offsets) from DJL's tokenizer equal Hugging Face tokenizers' for every fixture case. */
class TokenizerParityTest {
  static final Path DIR = Fixtures.root().resolve("tokenizer-llama-32k");

  @Test
  void everyFixtureCaseGivesIdenticalIds() throws Exception {
    JsonNode cases =
        new ObjectMapper().readTree(DIR.resolve("expected_ids.json").toFile()).get("cases");
    int checked = 0;
    try (HuggingFaceTokenizer tok = Tokenization.open(DIR.toString())) {
      for (JsonNode c : cases) {
        String text = c.get("text").asText();
        boolean special = c.get("add_special_tokens").asBoolean();
        Encoding e = tok.encode(text, special, false);
        long[] want = new long[c.get("ids").size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = c.get("ids").get(i).asLong();
        }
        assertArrayEquals(want, e.getIds(), "ids of " + text + " (special " + special + ")");
        for (int i = 0; i < want.length; i++) {
          var span = e.getCharTokenSpans()[i];
          JsonNode off = c.get("offsets").get(i);
          if (span != null) {
            assertEquals(
                off.get(0).asInt(), span.getStart(), "start offset of token " + i + " in " + text);
            assertEquals(
                off.get(1).asInt(), span.getEnd(), "end offset of token " + i + " in " + text);
          }
        }
        checked++;
      }
    }
    assertEquals(18, checked, "9 texts x add_special_tokens true/false");
  }

  @Test
  void longTextIsNotTruncatedAt512() throws Exception {
    try (HuggingFaceTokenizer tok = Tokenization.open(DIR.toString())) {
      Encoding e = tok.encode("word ".repeat(2000), false, false);
      assertEquals(
          true, e.getIds().length > 1500, "no silent cut at 512 tokens: " + e.getIds().length);
    }
  }
}
