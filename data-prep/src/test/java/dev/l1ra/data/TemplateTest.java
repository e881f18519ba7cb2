package dev.l1ra.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.data.template.ChatTemplate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Per template: the decoded learned tokens are exactly the response followed by the end marker. */
class TemplateTest {
  @TempDir static Path dir;

  static String learnedText(Tokenization tok, Tokenized t) {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < t.labels().length; i++) {
      if (t.labels()[i] != -100) {
        ids.add(t.inputIds()[i]);
      }
    }
    return tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
  }

  static Tokenized one(Tokenization tok, String system, String q, String r) {
    List<Tokenization.Outcome> out =
        tok.tokenize(List.of(new RawRow("x", system, q, r, null, null)), id -> "train");
    assertEquals(null, out.get(0).reason());
    return out.get(0).row();
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama3", "mistral", "chatml"})
  void learnedTokensAreTheResponseAndTheEndMarker(String name) {
    CharTokenizer.write(dir);
    ChatTemplate t = ChatTemplate.named(name);
    try (Tokenization tok = new Tokenization(dir.toString(), t, 4096)) {
      for (String system : new String[] {"", "You are terse."}) {
        Tokenized row = one(tok, system, "What is 2 + 3?", "2 + 3 = 5");
        String want = (name.equals("mistral") ? " " : "") + "2 + 3 = 5" + t.endMarker();
        assertEquals(want, learnedText(tok, row), name + " with system \"" + system + "\"");
        assertEquals(-100, row.labels()[0], "the first token is never learned");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama3", "mistral", "chatml"})
  void emptySystemPromptIsHandledAsTheFamilyDoes(String name) {
    ChatTemplate t = ChatTemplate.named(name);
    String text = t.render("", "Q?", "A").text();
    switch (name) {
      case "llama3" -> assertTrue(!text.contains("system"), text);
      case "mistral" -> assertEquals("<s>[INST] Q? [/INST] A</s>", text);
      default ->
          assertTrue(
              text.startsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>"), text);
    }
    assertEquals(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>",
        ChatTemplate.named("llama3").render("S", "Q?", "A").text());
  }

  @ParameterizedTest
  @ValueSource(strings = {"mistral"})
  void mistralWithTheRealLlamaTokenizerLearnsTheAnswerAndEos(String name) {
    Path real = Fixtures.root().resolve("tokenizer-llama-32k");
    try (Tokenization tok = new Tokenization(real.toString(), ChatTemplate.named(name), 4096)) {
      Tokenized row = one(tok, "You are a helpful assistant.", "Name a color.", "Blue is a color.");
      // SentencePiece decoding drops the word-initial space of the first learned token
      assertEquals("Blue is a color.</s>", learnedText(tok, row).strip());
      assertEquals(2, row.inputIds()[row.length() - 1], "ends with </s> (id 2)");
      assertEquals(1, row.inputIds()[0], "starts with <s> (id 1)");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 44})
  void truncationCutsTheResponseSideFirst(int seqLen) {
    CharTokenizer.write(dir);
    try (Tokenization tok =
        new Tokenization(dir.toString(), ChatTemplate.named("mistral"), seqLen)) {
      List<Tokenization.Outcome> out =
          tok.tokenize(
              List.of(
                  new RawRow(
                      "x", "", "What is the answer?", "It is forty-two, of course.", null, null)),
              id -> "train");
      Tokenization.Outcome o = out.get(0);
      if (seqLen == 16) {
        assertEquals("no_learned_tokens", o.reason(), "the prompt alone fills 16 tokens");
      } else {
        assertEquals(seqLen, o.row().length());
        assertTrue(o.row().truncated());
        assertTrue(o.row().learned() > 0);
        assertTrue(
            learnedText(tok, o.row()).startsWith(" It is"),
            "the prompt is whole, the response cut");
      }
    }
  }
}
