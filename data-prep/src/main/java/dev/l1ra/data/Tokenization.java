package dev.l1ra.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.l1ra.data.template.ChatTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Renders rows with the chat template and tokenizes them with the model's {@code tokenizer.json}
 * (DJL's Hugging Face tokenizers, truncation and padding off, special tokens only as the template
 * writes them). The whole text is tokenized once — so ids are exactly what Hugging Face gives for
 * it — and a token is learned when it starts at or after the prompt's end (character offsets in
 * code points, as the tokenizer reports them); a token straddling the boundary stays a prompt
 * token. One tokenizer per partition, rows encoded in batches.
 */
public final class Tokenization implements AutoCloseable {
  public static final int IGNORE = -100;
  static final int BATCH = 256;

  private final HuggingFaceTokenizer tokenizer;
  private final ChatTemplate template;
  private final int seqLen;

  public Tokenization(String tokenizerPath, ChatTemplate template, int seqLen) {
    this.tokenizer = open(tokenizerPath);
    this.template = template;
    this.seqLen = seqLen;
  }

  /**
   * A tokenizer with truncation, padding and automatic special tokens off (DJL cuts at 512 by
   * default).
   */
  public static HuggingFaceTokenizer open(String path) {
    try {
      return HuggingFaceTokenizer.newInstance(
          Path.of(path),
          Map.of(
              "truncation",
              "false",
              "padding",
              "false",
              "addSpecialTokens",
              "false",
              "modelMaxLength",
              String.valueOf(Integer.MAX_VALUE)));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot load tokenizer "
              + path
              + " (a tokenizer.json or the folder holding it): "
              + e.getMessage(),
          e);
    }
  }

  /** Result for one row: a tokenized example or a rejection reason. */
  public record Outcome(Tokenized row, String reason, RawRow source) {}

  /** Tokenizes rows in batches. */
  public List<Outcome> tokenize(List<RawRow> rows, Function<String, String> splitOf) {
    List<Outcome> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i += BATCH) {
      List<RawRow> chunk = rows.subList(i, Math.min(rows.size(), i + BATCH));
      List<ChatTemplate.Rendered> rendered =
          chunk.stream().map(r -> template.render(r.system(), r.question(), r.response())).toList();
      Encoding[] enc =
          tokenizer.batchEncode(
              rendered.stream().map(ChatTemplate.Rendered::text).toList(), false, false);
      for (int k = 0; k < chunk.size(); k++) {
        out.add(one(chunk.get(k), rendered.get(k), enc[k], splitOf.apply(chunk.get(k).id())));
      }
    }
    return out;
  }

  private Outcome one(RawRow row, ChatTemplate.Rendered r, Encoding e, String split) {
    long[] ids = e.getIds();
    CharSpan[] spans = e.getCharTokenSpans();
    int boundary = r.prompt().codePointCount(0, r.prompt().length());
    int n = Math.min(ids.length, seqLen);
    int[] in = new int[n];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      in[i] = (int) ids[i];
      boolean learned = spans[i] != null && spans[i].getStart() >= boundary;
      labels[i] = learned ? in[i] : IGNORE;
    }
    Tokenized t =
        new Tokenized(row.id(), split, in, labels, null, null, ids.length > seqLen, ids.length);
    return t.learned() == 0
        ? new Outcome(null, "no_learned_tokens", row)
        : new Outcome(t, null, row);
  }

  /** Decodes ids (tests, debugging). */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, false);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
