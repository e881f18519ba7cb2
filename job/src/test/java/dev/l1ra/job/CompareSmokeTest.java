package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.data.TokenizedData;
import dev.l1ra.model.llama.RandomModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webster/WordNet comparison (conf/compare/webster-wordnet.yaml on conf/webster-wordnet.yaml)
 * as a smoke test, without ../shared: a random model of the tiny shape with the 32k Llama
 * tokenizer's vocabulary, 300 rows of the WordNet data (testdata/webster-wordnet), 3 steps, the
 * LoRA, L1RA and PARA rows at one seed, every step in its own JVM as the command runs it; then the
 * same command again, which reuses every result. The full table is a documented program, not a test
 * (README).
 */
class CompareSmokeTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path WORDNET =
      ROOT.resolve("testdata/webster-wordnet/wordnet-definitions-300.jsonl");
  static final Path TOKENIZER = Fixtures.root().resolve("tokenizer-llama-32k");
  static final Path WEBSTER = ROOT.resolve("../shared/models/webster-22m").normalize();

  @TempDir static Path dir;

  /** The shipped comparison with its paths made absolute (tests run in job/) and short answers. */
  private static Path spec() throws IOException {
    ObjectMapper yaml = RunConfigs.yaml();
    ObjectNode s = (ObjectNode) yaml.readTree(CompareSpecTest.SPEC.toFile());
    s.put("preset", ROOT.resolve("conf/webster-wordnet.yaml").toString());
    s.put("out", dir.resolve("out").toString());
    ((ObjectNode) s.get("generate")).put("max_tokens", 6);
    Path f = dir.resolve("spec.yaml");
    yaml.writeValue(f.toFile(), s);
    return f;
  }

  private static String[] argv(Path spec) {
    Path prepared = dir.resolve("prepared");
    List<String> a = new ArrayList<>(List.of(spec.toString(), "--seeds", "1", "--jobs", "2"));
    a.addAll(List.of("--only", "lora-r8,l1ra,l1ra-para50"));
    for (String s :
        List.of(
            "model.path=" + dir.resolve("model"),
            "data.prep.input=" + WORDNET,
            "data.prep.tokenizer=" + TOKENIZER,
            "data.prep.out=" + prepared,
            "data.train=" + prepared.resolve("train"),
            "data.eval=" + prepared.resolve("eval"),
            "train.steps=3",
            "l1ra.rank_update_steps=2", // one allocation event, with gates below 0.995 pruned
            "l1ra.prune_threshold=0.995")) {
      a.addAll(List.of("--set", s));
    }
    return a.toArray(String[]::new);
  }

  @Test
  void thePresetsPipelineRunsEveryStepAndARerunReusesEveryResult() throws IOException {
    // bos 1, eos 2, pad 0 and 32,000 ids: the 32k tokenizer's (as webster-22m)
    RandomModels.write(dir.resolve("model"), RandomModels.shape("tiny", 32000), 11);
    Path spec = spec();
    String printed = run(argv(spec));
    Path out = dir.resolve("out");
    for (String f : List.of("table.md", "results.json", "results.csv")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), "missing " + f);
    }
    assertTrue(printed.contains("| LoRA r8 | uniform, alpha 16 | 1 | 224 |"), printed);
    assertTrue(printed.contains("| L1RA → PARA |"), printed);
    JsonNode res = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    Map<String, JsonNode> runs = new HashMap<>();
    res.at("/table/rows").forEach(r -> runs.put(r.get("name").asText(), r.at("/runs/0")));
    assertEquals(224, runs.get("l1ra").get("total_rank").asInt(), "Σr conserved: 4 layers × 7 × 8");
    assertTrue(runs.get("l1ra").get("ranks_moved").asInt() > 0, "ranks moved: " + runs.get("l1ra"));
    assertEquals(112, runs.get("l1ra-para50").get("total_rank").asInt(), "half of L1RA's Σr");
    double base = res.at("/table/base/perplexity").asDouble();
    runs.values()
        .forEach(r -> assertTrue(r.get("perplexity").asDouble() < base, "learned something: " + r));
    assertEquals(
        2 + 3, Files.readAllLines(out.resolve("results.csv")).size(), "header, base, runs");
    assertPromptsAreThePreparedOnes(res.get("generations"));

    Map<Path, FileTime> before = resultTimes(out);
    String again = run(argv(spec));
    assertEquals(before, resultTimes(out), "the rerun reused every result, running nothing");
    assertEquals(table(printed), table(again), "and printed the same table");
  }

  /**
   * Every model answered every held-out question within the limit, from the very prompt tokens that
   * data-prep wrote for that row (the labels' masked prefix).
   */
  private static void assertPromptsAreThePreparedOnes(JsonNode generations) {
    assertEquals(4, generations.size(), "the base model and 3 rows");
    List<String> ids = new ArrayList<>();
    CompareSpec.load(CompareSpecTest.SPEC).generate().ids().forEach(ids::add);
    generations.forEach(g -> assertEquals(ids.size(), g.get("answers").size()));
    SparkSession spark = SparkSessions.create("compare-smoke", "local[2]", Map.of());
    try (Generator g =
        Generator.open(
            dir.resolve("model"),
            TOKENIZER.toString(),
            "mistral",
            Precision.FP32,
            Device.cpu(),
            "plain")) {
      List<Row> rows =
          TokenizedData.read(spark, dir.resolve("prepared/eval").toString())
              .where(org.apache.spark.sql.functions.col("id").isin(ids.toArray()))
              .collectAsList();
      assertEquals(ids.size(), rows.size(), "the questions are held out");
      for (Row r : rows) {
        List<Integer> in = r.getList(r.fieldIndex("input_ids"));
        List<Integer> labels = r.getList(r.fieldIndex("labels"));
        int prompt = 0;
        while (labels.get(prompt) < 0) { // the masked prompt, then the learned answer
          prompt++;
        }
        long[] want = in.subList(0, prompt).stream().mapToLong(Integer::longValue).toArray();
        JsonNode q = generations.get(0).get("answers").get(ids.indexOf(r.<String>getAs("id")));
        assertArrayEquals(want, g.promptIds("", q.get("question").asText()), q.toString());
        assertEquals(want.length, q.get("prompt_tokens").asInt());
        generations.forEach(
            m -> {
              JsonNode a = m.get("answers").get(ids.indexOf(r.<String>getAs("id")));
              assertTrue(a.get("tokens").size() <= 6, a.toString());
              assertTrue(List.of("eos", "max_tokens").contains(a.get("stop").asText()));
            });
      }
    } finally {
      spark.stop();
    }
  }

  @Test
  void generatePrintsOneJsonLineWithTheGreedyAnswer() throws IOException {
    Path model = dir.resolve("gen-model");
    RandomModels.write(model, RandomModels.shape("tiny", 32000), 5);
    JsonNode n =
        lastJson(
            () ->
                GenerateCommand.run(
                    new String[] {
                      "--model", model.toString(), "--tokenizer", TOKENIZER.toString(),
                      "--template", "mistral", "--question", "What does the noun \"widow\" mean?",
                      "--max-tokens", "5", "--attention", "plain"
                    }));
    assertEquals("mistral", n.get("template").asText());
    assertTrue(n.get("new_tokens").asInt() <= 5, n.toString());
    assertEquals(n.get("new_tokens").asInt(), n.get("token_ids").size());
    assertTrue(
        n.has("answer") && n.has("stop") && n.get("prompt_tokens").asInt() > 10, n.toString());
  }

  /** The real webster-22m, where ../shared has it (not in CI): its greedy answer is pinned. */
  @Test
  void websterAnswersAsPinned() throws IOException {
    assumeTrue(Files.isRegularFile(WEBSTER.resolve("model.safetensors")), "no ../shared model");
    JsonNode n =
        lastJson(
            () ->
                GenerateCommand.run(
                    new String[] {
                      "--model",
                      WEBSTER.toString(),
                      "--template",
                      "mistral",
                      "--question",
                      "What does the noun \"disaster\" mean?",
                      "--max-tokens",
                      "10"
                    }));
    long[] ids = new long[n.get("token_ids").size()];
    Arrays.setAll(ids, i -> n.get("token_ids").get(i).asLong());
    assertArrayEquals(new long[] {1307, 486, 475, 1053, 266, 28725, 378, 349, 4525, 390}, ids);
    assertEquals("used by Jonson, it is considered as", n.get("answer").asText());
  }

  private static Map<Path, FileTime> resultTimes(Path out) throws IOException {
    Map<Path, FileTime> m = new HashMap<>();
    try (Stream<Path> s = Files.list(out.resolve("results"))) {
      for (Path p : s.toList()) {
        m.put(p, Files.getLastModifiedTime(p));
      }
    }
    return m;
  }

  /** The printed table without the last line (its wall time differs). */
  private static String table(String printed) {
    List<String> lines = printed.lines().toList();
    return String.join("\n", lines.subList(0, lines.size() - 1));
  }

  private static String run(String[] argv) throws IOException {
    return capture(() -> CompareCommand.run(argv));
  }

  private static JsonNode lastJson(java.util.function.IntSupplier cmd) throws IOException {
    List<String> lines = capture(cmd).lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  private static String capture(java.util.function.IntSupplier cmd) {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, cmd.getAsInt());
    } finally {
      System.setOut(out);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
