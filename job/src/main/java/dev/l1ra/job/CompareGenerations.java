package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ChatFormat;
import dev.l1ra.job.data.TokenizedData;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The comparison's generation check: greedy answers of the base model and of each row's adapter
 * (its first seed) to a few held-out questions — rows of the prep input whose ids are in the eval
 * split — rendered with the data's chat template ({@link Generator}).
 */
final class CompareGenerations {
  private static final Logger LOG = LoggerFactory.getLogger(CompareGenerations.class);

  private CompareGenerations() {}

  /** A held-out question and the data's own answer. */
  record Question(String id, String system, String question, String reference) {}

  /** One model's answers, in question order. */
  record Answers(String model, String run, List<Generator.Answer> answers) {}

  /** The spec's questions from data.prep.input (JSON Lines), checked to be in the eval split. */
  static List<Question> questions(SparkSession spark, RunConfig cfg, CompareSpec.Generate gen) {
    if (gen == null || gen.ids().isEmpty()) {
      return List.of();
    }
    Path input = Path.of(cfg.data().prep().input());
    Map<String, Question> found = new LinkedHashMap<>();
    ObjectMapper json = new ObjectMapper();
    Set<String> want = new HashSet<>(gen.ids());
    try (BufferedReader in = Files.newBufferedReader(input)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        JsonNode n = json.readTree(line);
        if (want.contains(n.path("id").asText())) {
          found.put(
              n.get("id").asText(),
              new Question(
                  n.get("id").asText(),
                  n.path("system_prompt").asText(""),
                  n.get("question").asText(),
                  n.get("response").asText()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "compare: cannot read the generation questions from data.prep.input "
              + input
              + " (JSON Lines with id, system_prompt, question, response): "
              + e.getMessage(),
          e);
    }
    Set<String> held =
        new HashSet<>(
            TokenizedData.read(spark, cfg.data().eval())
                .select(TokenizedData.ID)
                .where(functions.col(TokenizedData.ID).isin(gen.ids().toArray()))
                .as(Encoders.STRING())
                .collectAsList());
    List<Question> out = new ArrayList<>();
    for (String id : gen.ids()) {
      if (!found.containsKey(id) || !held.contains(id)) {
        throw new IllegalArgumentException(
            "compare: generate.ids has \""
                + id
                + "\", which is "
                + (found.containsKey(id)
                    ? "not in the eval split " + cfg.data().eval()
                    : "not in " + input)
                + "; list ids of held-out rows");
      }
      out.add(found.get(id));
    }
    return out;
  }

  /** Greedy answers of the base model, then of each row's first run. */
  static List<Answers> answer(ComparePlan p, List<Question> questions, CompareTable.Table table) {
    if (questions.isEmpty()) {
      return List.of();
    }
    RunConfig c = p.base();
    String tok = c.data().prep().tokenizer();
    ChatFormat template = c.data().prep().template();
    int max = p.spec().generate().maxTokens();
    List<Answers> out = new ArrayList<>();
    try (Generator g =
        Generator.open(
            Path.of(c.model().path()),
            tok,
            template == null ? "auto" : template.toString(),
            c.model().precision(),
            Device.cpu(),
            c.model().attention().toString())) {
      out.add(new Answers("base model", null, ask(g, null, questions, max)));
      for (CompareTable.Row r : table.rows()) {
        String run = r.runs().get(0).run();
        try (NDManager m = g.model().manager().newSubManager();
            AdapterSet a =
                PeftAdapters.load(p.runDir(run).resolve("adapter"), g.model().config(), m)
                    .adapters()) {
          out.add(new Answers(r.method(), run, ask(g, a, questions, max)));
        }
      }
    }
    return out;
  }

  private static List<Generator.Answer> ask(
      Generator g, AdapterSet a, List<Question> questions, int max) {
    List<Generator.Answer> out = new ArrayList<>();
    for (Question q : questions) {
      out.add(g.answer(a, q.system(), q.question(), max));
    }
    LOG.info("generated {} answers ({})", out.size(), a == null ? "base model" : "adapter");
    return out;
  }

  /** Per question: the data's answer and each model's. */
  static String markdown(List<Answers> all, List<Question> questions) {
    if (all.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("\nGreedy answers to held-out questions:\n");
    for (int i = 0; i < questions.size(); i++) {
      Question q = questions.get(i);
      b.append("\n**").append(q.question()).append("** (").append(q.id()).append(")\n\n");
      b.append("| model | answer |\n|---|---|\n");
      b.append("| WordNet (the data) | ").append(cell(q.reference())).append(" |\n");
      for (Answers a : all) {
        Generator.Answer ans = a.answers().get(i);
        String cut = ans.stop().equals("eos") ? "" : " …";
        b.append("| ")
            .append(a.model())
            .append(" | ")
            .append(cell(ans.answer()))
            .append(cut)
            .append(" |\n");
      }
    }
    return b.toString();
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ").strip();
  }
}
