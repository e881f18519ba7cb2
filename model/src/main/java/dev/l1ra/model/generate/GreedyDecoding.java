package dev.l1ra.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Greedy decoding with a {@link LlamaModel} and optional adapters: at every step the whole sequence
 * (prompt and the tokens so far) is run again and the most likely next token (argmax of the last
 * position's logits, the first one on ties, as {@code torch.argmax} and Hugging Face's greedy
 * search) is appended, until a stop token or the token limit. No KV cache: a full forward per token
 * is cheap for the small models this is used with (answers of a few dozen tokens); adapters run in
 * eval mode (no dropout).
 */
public final class GreedyDecoding {
  private GreedyDecoding() {}

  /** Why decoding stopped: a stop token (not included in the tokens) or the token limit. */
  public enum Stop {
    EOS,
    MAX_TOKENS
  }

  /**
   * The generated continuation.
   *
   * @param tokens generated ids, without the prompt and without the stop token
   * @param stop why it ended
   */
  public record Result(long[] tokens, Stop stop) {}

  /**
   * Generates up to {@code maxNewTokens} tokens after {@code prompt}.
   *
   * @param adapters the adapters to apply, or null for the base model
   * @param stopIds token ids that end the answer (the model's EOS ids)
   */
  public static Result generate(
      LlamaModel model, AdapterSet adapters, long[] prompt, int maxNewTokens, Set<Long> stopIds) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("generate: the prompt has no tokens");
    }
    List<Long> out = new ArrayList<>();
    long[] seq = Arrays.copyOf(prompt, prompt.length);
    while (out.size() < maxNewTokens) {
      long next = nextToken(model, adapters, seq);
      if (stopIds.contains(next)) {
        return new Result(toArray(out), Stop.EOS);
      }
      out.add(next);
      seq = Arrays.copyOf(seq, seq.length + 1);
      seq[seq.length - 1] = next;
    }
    return new Result(toArray(out), Stop.MAX_TOKENS);
  }

  /** The argmax of the logits at the last position of {@code ids} (one forward pass). */
  public static long nextToken(LlamaModel model, AdapterSet adapters, long[] ids) {
    try (NDScope scope = new NDScope()) {
      Batch batch = Batch.of(model.manager(), new long[][] {ids}, null);
      NDArray logits = model.logits(batch, adapters, false); // [1, T, V]
      return logits.get(0, ids.length - 1).argMax().getLong(); // [V] -> index
    }
  }

  private static long[] toArray(List<Long> list) {
    return list.stream().mapToLong(Long::longValue).toArray();
  }
}
