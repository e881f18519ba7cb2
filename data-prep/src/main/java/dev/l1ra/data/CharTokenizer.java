package dev.l1ra.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A character-level Hugging Face {@code tokenizer.json} written by our own code: a BPE model
 * without merges over printable ASCII, newline and tab, with the chat markers of the three
 * templates as special tokens. For offline quickstarts and tests; ids: 0 pad, 1 bos, 2 eos, then
 * the markers.
 */
public final class CharTokenizer {
  /** Special tokens, in id order. */
  public static final List<String> SPECIALS =
      List.of(
          "<|pad|>",
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|start_header_id|>",
          "<|end_header_id|>",
          "<|eot_id|>",
          "<unk>",
          "<|im_start|>",
          "<|im_end|>",
          "<s>",
          "</s>");

  public static final int PAD = 0;
  public static final int BOS = 1;
  public static final int EOS = 2;
  public static final int EOT = 5;

  private CharTokenizer() {}

  /**
   * Writes {@code dir/tokenizer.json}; returns the vocabulary size rounded up to a multiple of 8.
   */
  public static int write(Path dir) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    List<String> tokens = new ArrayList<>(SPECIALS);
    tokens.add("\n");
    tokens.add("\t");
    for (char ch = 32; ch < 127; ch++) {
      tokens.add(String.valueOf(ch));
    }
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode vocab = json.createObjectNode();
    for (int i = 0; i < tokens.size(); i++) {
      vocab.put(tokens.get(i), i);
      if (i < SPECIALS.size()) {
        ObjectNode t = added.addObject();
        t.put("id", i);
        t.put("content", tokens.get(i));
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      }
    }
    root.putNull("normalizer");
    root.putNull("pre_tokenizer");
    root.putNull("post_processor");
    root.putObject("decoder").put("type", "Fuse");
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", "<unk>");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.set("vocab", vocab);
    model.putArray("merges");
    try {
      AtomicFiles.write(dir.resolve("tokenizer.json"), json.writeValueAsBytes(root));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tokenizer to " + dir + ": " + e, e);
    }
    return (tokens.size() + 7) / 8 * 8;
  }
}
