package dev.l1ra.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.testing.Expected;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy decoding against the fixtures' transformers logits: the logits at position k−1 of the
 * fixture sequence depend only on its first k tokens (causal attention), so the greedy token after
 * that prefix is their argmax — computed here by hand from {@code expected.safetensors}, for the
 * base model and with a PEFT adapter (its merged-model logits).
 */
class GreedyDecodingTest {
  static final Path DIR = Fixtures.model("tiny-llama3");

  /** Logits agree with transformers to ~1e-6: a smaller gap between the top two is a tie. */
  static final float CLEAR = 1e-4f;

  @ParameterizedTest
  @ValueSource(strings = {"", "lora-r4"})
  void theFirstGreedyTokenIsTheArgmaxOfTransformersLogits(String adapter) {
    try (LlamaModel model =
            LlamaModel.load(DIR, Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager m = model.manager().newSubManager();
        Expected exp = new Expected(DIR.resolve("expected.safetensors"))) {
      AdapterSet set =
          adapter.isEmpty()
              ? null
              : PeftAdapters.load(DIR.resolve(adapter), model.config(), m).adapters();
      String logitsName = adapter.isEmpty() ? "logits" : adapter + ".merged_logits";
      float[] logits = exp.file().floats(logitsName); // [2, 24, V]
      int vocab = model.config().vocabSize();
      int t = (int) exp.file().info(logitsName).shape()[1];
      int checked = 0;
      for (int row = 0; row < 2; row++) {
        long[] ids = exp.longs2d("input_ids")[row];
        for (int k = 1; k <= t; k++) {
          int off = (row * t + k - 1) * vocab;
          float[] at = Arrays.copyOfRange(logits, off, off + vocab);
          if (margin(at) < CLEAR) {
            continue;
          }
          GreedyDecoding.Result r =
              GreedyDecoding.generate(model, set, Arrays.copyOf(ids, k), 1, Set.of());
          assertArrayEquals(new long[] {argmax(at)}, r.tokens(), "row " + row + ", prefix " + k);
          assertEquals(GreedyDecoding.Stop.MAX_TOKENS, r.stop());
          checked++;
        }
      }
      assertTrue(checked >= 40, "only " + checked + " of 48 prefixes have a clear argmax");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4, 9})
  void eachStepExtendsTheSequenceAndStopsAtTheLimitOrAStopToken(int max) {
    try (LlamaModel model =
            LlamaModel.load(DIR, Device.cpu(), Precision.FP32, new PlainAttention());
        Expected exp = new Expected(DIR.resolve("expected.safetensors"))) {
      long[] prompt = Arrays.copyOf(exp.longs2d("input_ids")[0], 6);
      GreedyDecoding.Result r = GreedyDecoding.generate(model, null, prompt, max, Set.of());
      assertEquals(max, r.tokens().length);
      assertEquals(GreedyDecoding.Stop.MAX_TOKENS, r.stop());
      long[] seq = prompt;
      for (long tok : r.tokens()) { // step by step: the same tokens one call at a time
        assertEquals(tok, GreedyDecoding.nextToken(model, null, seq));
        seq = Arrays.copyOf(seq, seq.length + 1);
        seq[seq.length - 1] = tok;
      }
      long last = r.tokens()[max - 1];
      GreedyDecoding.Result stopped =
          GreedyDecoding.generate(model, null, prompt, max + 5, Set.of(last));
      int firstAt = indexOf(r.tokens(), last);
      assertArrayEquals(Arrays.copyOf(r.tokens(), firstAt), stopped.tokens(), "ends before it");
      assertEquals(GreedyDecoding.Stop.EOS, stopped.stop());
    }
  }

  @Test
  void anEmptyPromptIsRefused() {
    try (LlamaModel model =
        LlamaModel.load(DIR, Device.cpu(), Precision.FP32, new PlainAttention())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> GreedyDecoding.generate(model, null, new long[0], 3, Set.of()));
      assertTrue(e.getMessage().contains("no tokens"), e.getMessage());
    }
  }

  private static long argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  /** The gap between the largest and the second largest value. */
  private static float margin(float[] v) {
    float[] s = v.clone();
    Arrays.sort(s);
    return s[s.length - 1] - s[s.length - 2];
  }

  private static int indexOf(long[] v, long x) {
    for (int i = 0; i < v.length; i++) {
      if (v[i] == x) {
        return i;
      }
    }
    return -1;
  }
}
