package dev.l1ra.job;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.Precision;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.engine.EngineInfo;
import java.nio.file.Path;
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
      Generator.Answer ans =
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
}
