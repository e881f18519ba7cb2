package dev.l1ra.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.data.SparkSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code compare SPEC [--set key=value]... [--jobs N] [--threads N] [--seeds N] [--only row,...]
 * [--out DIR]}: a method comparison table from the product's own commands. It prepares the data
 * once (the preset's data.prep), then runs as child JVMs, {@code jobs} at a time: the base model's
 * eval, {@code train} for every row and seed (same steps, batch and data order per seed; no eval
 * inside training), {@code eval} of every adapter on the eval split, and {@code compress} (PARA)
 * where a row asks for it; then greedy answers to held-out questions (in this JVM). It prints the
 * markdown table and writes it with every number ({@code table.md}, {@code results.json}, {@code
 * results.csv}) to the output folder. Run again, it reuses every result whose command and config
 * are unchanged. {@code --set} overrides apply to every row, after the row's own.
 */
final class CompareCommand {
  private static final Logger LOG = LoggerFactory.getLogger(CompareCommand.class);

  static final Set<String> FLAGS = Set.of("jobs", "threads", "seeds", "only", "out");

  private CompareCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("compare", argv, FLAGS, Set.of());
    if (a.positional().size() != 1) {
      throw new IllegalArgumentException(
          "compare: give one comparison file, e.g. `compare conf/compare/webster-wordnet.yaml`");
    }
    long t0 = System.nanoTime();
    ComparePlan plan = ComparePlan.of(CompareSpec.load(Path.of(a.positional().get(0))), a);
    SparkSession spark =
        SparkSessions.create("l1ra-compare", plan.base().spark().master(), Map.of());
    List<CompareGenerations.Question> questions;
    try {
      Quickstart.prepareModel(plan.base());
      PrepCommand.runFromConfig(spark, plan.base());
      questions = CompareGenerations.questions(spark, plan.base(), plan.spec().generate());
    } finally {
      spark.stop();
    }
    Map<String, JsonNode> results = tasks(plan).runAll();
    CompareTable.Table table = CompareResults.collect(plan, results);
    List<CompareGenerations.Answers> answers = CompareGenerations.answer(plan, questions, table);
    String md = CompareTable.markdown(table) + CompareGenerations.markdown(answers, questions);
    ObjectNode summary = write(plan, table, md, answers, (System.nanoTime() - t0) / 1e9);
    System.out.println(md);
    System.out.println(summary);
    return 0;
  }

  /** The child commands of the plan. */
  static ChildTasks tasks(ComparePlan p) {
    ChildTasks t = new ChildTasks(p.out().resolve("logs"), p.jobs(), p.threads());
    t.add(task(p, "eval-base", evalArgs(p, null), List.of()));
    for (CompareSpec.Row r : p.rows()) {
      for (long seed : p.seedsOf(r)) {
        String run = ComparePlan.runName(r, seed);
        if (r.trains()) {
          RunConfig cfg = p.config(r, seed);
          List<String> argv = new ArrayList<>(List.of("train", p.spec().preset(), "--fresh"));
          p.trainSets(r, seed).forEach(s -> argv.addAll(List.of("--set", s)));
          Path done = p.runDir(run).resolve("report.json");
          Path written = p.runDir(run).resolve("config.yaml");
          t.add(
              new ChildTasks.Task(
                  "train-" + run,
                  argv,
                  p.result("train-" + run),
                  List.of(),
                  () -> Files.isRegularFile(done) && sameText(written, RunConfigs.toYaml(cfg))));
        } else {
          CompareSpec.Row from = p.row(r.compress().from());
          String source = ComparePlan.runName(from, seed);
          int rank = (int) Math.round(r.compress().totalRankFraction() * budget(p, from, seed));
          List<String> argv =
              List.of(
                  "compress",
                  "--model",
                  p.base().model().path(),
                  "--adapter",
                  p.runDir(source).resolve("adapter").toString(),
                  "--out",
                  p.runDir(run).resolve("adapter").toString(),
                  "--total-rank",
                  String.valueOf(rank));
          t.add(task(p, "compress-" + run, argv, List.of("train-" + source)));
        }
        String made = (r.trains() ? "train-" : "compress-") + run;
        t.add(task(p, "eval-" + run, evalArgs(p, run), List.of(made)));
      }
    }
    return t;
  }

  private static ChildTasks.Task task(
      ComparePlan p, String id, List<String> argv, List<String> deps) {
    return new ChildTasks.Task(id, argv, p.result(id), deps, () -> true);
  }

  /** {@code eval} of the base model (run null) or of a run's adapter on the eval split. */
  private static List<String> evalArgs(ComparePlan p, String run) {
    RunConfig c = p.base();
    if (c.data().eval() == null) {
      throw new IllegalArgumentException(
          "compare: the preset " + p.spec().preset() + " has no data.eval to score the rows on");
    }
    List<String> argv =
        new ArrayList<>(
            List.of(
                "eval",
                "--model",
                c.model().path(),
                "--data",
                c.data().eval(),
                "--micro-batch",
                String.valueOf(Math.max(1, c.train().microBatch())),
                "--precision",
                c.model().precision().toString(),
                "--device",
                c.model().device(),
                "--attention",
                c.model().attention().toString()));
    if (run != null) {
      argv.addAll(List.of("--adapter", p.runDir(run).resolve("adapter").toString()));
    }
    return argv;
  }

  /**
   * Σr a row's adapters end with: AdaLoRA's final budget, else the initial layout's (conserved).
   */
  private static int budget(ComparePlan p, CompareSpec.Row row, long seed) {
    RunConfig cfg = p.config(row, seed);
    var model = ModelConfigs.load(Path.of(cfg.model().path()));
    var layout = cfg.initialLayout(model);
    return cfg.usesAdaLora() ? cfg.adalora().targetR() * layout.size() : layout.totalRank();
  }

  private static boolean sameText(Path file, String text) {
    try {
      return Files.isRegularFile(file) && Files.readString(file).equals(text);
    } catch (IOException e) {
      return false;
    }
  }

  /** table.md, results.json (generations included) and results.csv; the summary line. */
  private static ObjectNode write(
      ComparePlan p,
      CompareTable.Table table,
      String markdown,
      List<CompareGenerations.Answers> answers,
      double seconds) {
    ObjectMapper json =
        new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    Path md = p.out().resolve("table.md");
    Path all = p.out().resolve("results.json");
    Path csv = p.out().resolve("results.csv");
    AtomicFiles.writeString(md, markdown);
    ObjectNode n = json.createObjectNode();
    n.put("preset", p.spec().preset());
    n.set("overrides", json.valueToTree(p.sets()));
    n.put("jobs", p.jobs());
    n.put("threads", p.threads());
    n.put("wall_seconds", seconds);
    n.set("table", json.valueToTree(table));
    n.set("generations", json.valueToTree(answers));
    AtomicFiles.writeString(all, n.toPrettyString());
    AtomicFiles.writeString(csv, CompareTable.csv(table));
    LOG.info("comparison written to {}, {} and {}", md, all, csv);
    ObjectNode s = json.createObjectNode();
    s.put("table", md.toString());
    s.put("results", all.toString());
    s.put("csv", csv.toString());
    s.put("rows", table.rows().size());
    s.put("wall_seconds", seconds);
    return s;
  }
}
