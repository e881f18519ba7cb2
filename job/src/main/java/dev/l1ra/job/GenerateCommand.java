package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.data.Tokenization;
import dev.l1ra.data.template.ChatTemplate;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Precision;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.generate.GreedyDecoding;
import dev.l1ra.model.llama.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code generate --model DIR --question TEXT [--adapter DIR] [--template
 * mistral|llama3|chatml|auto] [--system TEXT] [--max-tokens 64]}: the model's greedy answer to one
 * question, rendered with the chat template the training data was prepared with (the prompt part,
 * up to where the answer starts), decoded until an end token (the model's EOS ids and the
 * template's end marker) or the token limit. The last line printed is one JSON object: the answer,
 * its token ids and why it stopped.
 */
final class GenerateCommand {
  static final Set<String> FLAGS =
      Set.of(
          "model",
          "adapter",
          "tokenizer",
          "template",
          "question",
          "system",
          "max-tokens",
          "precision",
          "device",
          "attention",
          "threads");

  private GenerateCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("generate", argv, FLAGS, Set.of());
    String question = a.require("generate", "question");
    EngineInfo.setThreads(a.getInt("threads", 0));
    try (Generator g =
            Generator.open(
                Path.of(a.require("generate", "model")),
                a.get("tokenizer", null),
                a.get("template", "auto"),
                Precision.parse(a.get("precision", "fp32")),
                EngineInfo.device(a.get("device", "auto")),
                a.get("attention", "auto"));
        NDManager m = g.model().manager().newSubManager();
        AdapterSet adapters =
            a.has("adapter")
                ? PeftAdapters.load(Path.of(a.get("adapter", null)), g.model().config(), m)
                    .adapters()
                : null) {
      Answer ans =
          g.answer(adapters, a.get("system", ""), question, a.getPositive("max-tokens", 64));
      ObjectNode n = ans.json();
      n.put("model", a.get("model", null));
      if (a.has("adapter")) {
        n.put("adapter", a.get("adapter", null));
      }
      System.out.println(n);
    }
    return 0;
  }

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

  /** A loaded base model, its tokenizer and a chat template: answers questions greedily. */
  static final class Generator implements AutoCloseable {
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
              ? ChatTemplate.forModelType(model.config().modelType())
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
}
