package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Precision;
import dev.l1ra.data.Tokenization;
import dev.l1ra.data.template.ChatTemplate;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.generate.GreedyDecoding;
import dev.l1ra.model.llama.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** A loaded base model, its tokenizer and a chat template: answers questions greedily. */
public final class Generator implements AutoCloseable {
  /**
   * One generated answer.
   *
   * @param promptTokens length of the rendered prompt in tokens
   * @param tokens the answer's ids (no stop token)
   * @param stop {@code eos} or {@code max_tokens}
   */
  record Answer(
      String template,
      String question,
      int promptTokens,
      String answer,
      long[] tokens,
      String stop) {
    ObjectNode json() {
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("template", template);
      n.put("question", question);
      n.put("prompt_tokens", promptTokens);
      n.put("answer", answer);
      n.put("new_tokens", tokens.length);
      n.put("stop", stop);
      var ids = n.putArray("token_ids");
      for (long t : tokens) {
        ids.add(t);
      }
      return n;
    }
  }

  private final LlamaModel model;
  private final HuggingFaceTokenizer tokenizer;
  private final ChatTemplate template;
  private final Set<Long> stopIds;

  private Generator(LlamaModel model, HuggingFaceTokenizer tokenizer, ChatTemplate template) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.template = template;
    this.stopIds = stopIds(model, tokenizer, template);
  }

  /**
   * @param tokenizer a tokenizer.json or its folder; null: the model folder's
   * @param template a template name, or auto (from the model's model_type)
   */
  static Generator open(
      Path modelDir,
      String tokenizer,
      String template,
      Precision precision,
      Device device,
      String attention) {
    String tok = tokenizer != null ? tokenizer : modelDir.toString();
    if (tokenizer == null && !Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
      throw new IllegalArgumentException(
          "generate: model folder " + modelDir + " has no tokenizer.json; pass --tokenizer PATH");
    }
    LlamaModel model =
        LlamaModel.load(modelDir, device, precision, AttentionKernels.create(attention, device));
    ChatTemplate t =
        template.equals("auto")
            ? ChatTemplate.of(model.config().family().chatFormat())
            : ChatTemplate.named(template);
    return new Generator(model, Tokenization.open(tok), t);
  }

  LlamaModel model() {
    return model;
  }

  /** The greedy answer to one question, with adapters or (null) the base model. */
  Answer answer(AdapterSet adapters, String system, String question, int maxTokens) {
    long[] ids = promptIds(system, question);
    GreedyDecoding.Result r = GreedyDecoding.generate(model, adapters, ids, maxTokens, stopIds);
    return new Answer(
        template.name(),
        question,
        ids.length,
        tokenizer.decode(r.tokens(), true).strip(),
        r.tokens(),
        r.stop() == GreedyDecoding.Stop.EOS ? "eos" : "max_tokens");
  }

  /**
   * The prompt's token ids: the template's text up to where the answer starts, tokenized as
   * data-prep tokenizes (no automatic special tokens; the template writes them).
   */
  long[] promptIds(String system, String question) {
    String prompt = template.render(system, question, "").prompt();
    return tokenizer.encode(prompt, false, false).getIds();
  }

  /** The model's EOS ids, and the template's end marker when it is one token. */
  private static Set<Long> stopIds(
      LlamaModel model, HuggingFaceTokenizer tokenizer, ChatTemplate template) {
    Set<Long> ids = new HashSet<>();
    model.config().eosTokenIds().forEach(i -> ids.add((long) i));
    long[] end = tokenizer.encode(template.endMarker(), false, false).getIds();
    if (end.length == 1) {
      ids.add(end[0]);
    }
    return Set.copyOf(ids);
  }

  @Override
  public void close() {
    tokenizer.close();
    model.close();
    AttentionKernels.closeQuietly(model.attention());
  }
}
