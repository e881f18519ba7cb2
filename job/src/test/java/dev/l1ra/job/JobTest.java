package dev.l1ra.job;

import static dev.l1ra.job.TinyRuns.assertSameAdapter;
import static dev.l1ra.job.TinyRuns.column;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.memory.Budget;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.report.RunResult;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark training job end to end on local[2] with a generated tiny model and the synthetic
 * sample: outputs, 1-vs-4-partition equivalence, task retry, and resume after a driver restart.
 */
class JobTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static Path base;

  @BeforeAll
  static void start() throws IOException {
    spark =
        SparkSessions.create("job-test", "local[2]", Map.of("spark.sql.shuffle.partitions", "4"));
    base = dir.resolve("base.yaml");
    Files.writeString(
        base,
        """
        run: {name: t, output_dir: %s/runs, seed: 3}
        model: {path: %s/model, generate: tiny, precision: fp32, device: cpu, attention: plain}
        data:
          train: %s/data/prepared/train
          eval: %s/data/prepared/eval
          sample: {path: %s/data/sample.jsonl, rows: 240, seed: 5}
          prep: {input: %s/data/sample.jsonl, tokenizer: %s/model, template: llama3, seq_len: 160, out: %s/data/prepared, eval_fraction: 0.1}
        method: l1ra
        lora: {r: 4, alpha: 8, dropout: 0.0, init: gaussian}
        train: {steps: 12, global_batch: 8, micro_batch: 4, lr: 3.0e-3, warmup: 2, log_every: 4, eval_every: 6, checkpoint_every: 4}
        l1ra: {lambda: 0.5, eta_c: 5.0e-2, rank_update_steps: 3, prune_threshold: 0.9}
        spark: {master: "local[2]", partitions: 1}
        """
            .formatted(dir, dir, dir, dir, dir, dir, dir, dir));
    RunConfig cfg = RunConfigs.load(base, List.of());
    Quickstart.prepareModel(cfg);
    PrepCommand.runFromConfig(spark, cfg);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** L1RA (the base config) with the global batch split over two Spark tasks. */
  static final List<String> TWO_TASKS = List.of("spark.partitions=2");

  /**
   * Same metrics rows (loss, gradient norm, gates: every logged value, as text), the same rank
   * history and the same adapter, bit for bit (CPU fp32 with MKL_DYNAMIC=FALSE), and no update
   * skipped in either run.
   */
  private static void assertSameRun(Path want, Path got, String what) throws IOException {
    assertNoSkippedStep(want.resolve("metrics.csv"), got.resolve("metrics.csv"));
    for (int col : new int[] {0, 1, 5, 10, 11}) {
      assertEquals(
          column(want.resolve("metrics.csv"), col),
          column(got.resolve("metrics.csv"), col),
          what + ": metrics.csv column " + col);
    }
    assertEquals(
        Files.readAllLines(want.resolve("ranks.csv")),
        Files.readAllLines(got.resolve("ranks.csv")),
        what + ": rank history");
    assertSameAdapter(want, got, 0, what);
  }

  /** No update was skipped for a non-finite loss or gradient (metrics.csv column 9). */
  private static void assertNoSkippedStep(Path... metrics) throws IOException {
    for (Path m : metrics) {
      assertTrue(
          column(m, 9).stream().allMatch("0"::equals), m + " has a step skipped as non-finite");
    }
  }

  /** Trains run {@code name}; with {@code failOnce} ≥ 0 one task attempt fails at that step. */
  private static RunResult train(String name, List<String> sets, boolean fresh, int failOnce) {
    return TinyRuns.train(spark, base, name, sets, fresh, failOnce);
  }

  @Test
  void aRunWritesEveryOutputAndLearns() throws IOException {
    TrainJob.Outcome o =
        TrainJob.runWithBaseline(
            spark, RunConfigs.load(base, List.of("run.name=outputs", "run.baseline=true")), true);
    RunResult r = o.run();
    RunResult b = o.baseline();
    Path d = r.paths().dir();
    for (String f :
        List.of(
            "adapter/adapter_config.json",
            "adapter/adapter_model.safetensors",
            "metrics.csv",
            "ranks.csv",
            "rank_heatmap.png",
            "rank_evolution.png",
            "loss_curve.png",
            "report.json",
            "config.yaml")) {
      assertTrue(Files.isRegularFile(d.resolve(f)), "missing " + f);
    }
    JsonNode cfg = new ObjectMapper().readTree(d.resolve("adapter/adapter_config.json").toFile());
    assertEquals("LORA", cfg.get("peft_type").asText());
    assertTrue(
        cfg.get("rank_pattern").size() > 0,
        "L1RA moved ranks, so PEFT needs a rank_pattern: " + cfg);
    JsonNode rep = new ObjectMapper().readTree(d.resolve("report.json").toFile());
    assertTrue(rep.get("allocation_events").asInt() > 0);
    assertEquals(
        rep.get("initial_total_rank").asInt(), rep.get("total_rank").asInt(), "Σr conserved");
    assertTrue(
        rep.get("final_eval").get("perplexity").asDouble()
            < rep.get("base_eval").get("perplexity").asDouble(),
        "perplexity falls");
    assertEquals(12, column(d.resolve("metrics.csv"), 0).size());
    JsonNode split = rep.get("per_step_ms");
    assertTrue(split.get("task_compute").asDouble() > 0, "per-step split: " + split);
    assertTrue(split.get("spark_overhead").asDouble() > 0, "per-step split: " + split);

    JsonNode base = rep.get("baseline");
    assertEquals("lora", base.get("method").asText());
    assertEquals(r.finalLayout().totalRank(), base.get("total_rank").asInt(), "same Σr");
    assertEquals(0, b.allocationEvents(), "the baseline's ranks stay fixed");
    assertEquals(
        b.summary().finalEval().perplexity(), base.get("perplexity").asDouble(), 0.0, "reported");
    assertEquals(
        r.summary().finalEval().perplexity(),
        rep.get("final_eval").get("perplexity").asDouble(),
        0.0,
        "the main results");
    assertTrue(Files.isRegularFile(b.paths().report()), "the baseline has its own report.json too");
    JsonNode line = new ObjectMapper().readTree(Summaries.json(r, b));
    assertEquals(base.get("perplexity").asDouble(), line.get("baseline_perplexity").asDouble());
  }

  @Test
  void adaloraRunsOnSparkMasksToTheTargetAndExportsPlainLora() throws IOException {
    RunResult r =
        train(
            "adalora",
            List.of(
                "method=adalora",
                "adalora.init_r=6",
                "adalora.target_r=4",
                "adalora.tinit=2",
                "adalora.tfinal=3",
                "spark.partitions=2"),
            true,
            -1);
    JsonNode cfg =
        new ObjectMapper().readTree(r.paths().adapter().resolve("adapter_config.json").toFile());
    assertEquals("LORA", cfg.get("peft_type").asText(), "AdaLoRA exports as LORA, never ADALORA");
    JsonNode rep = new ObjectMapper().readTree(r.paths().report().toFile());
    int adapters = rep.get("ranks").size();
    assertEquals(4 * adapters, rep.get("total_rank").asInt(), "final budget = target_r x adapters");
    assertEquals(6 * adapters, rep.get("initial_total_rank").asInt());
    assertTrue(
        column(r.paths().metrics(), 10).stream().allMatch(v -> Double.parseDouble(v) > 0),
        "orthogonality term logged");
    assertTrue(
        column(r.paths().ranks(), 0).stream().anyMatch(s -> !s.equals("0")),
        "masking events in ranks.csv");
  }

  @Test
  void aRunThatWouldNotFitStopsAndNamesAMicroBatchThatWouldWhichMicroBatchZeroPicks()
      throws IOException {
    // a device on which micro-batch 1 at the full prep length (160) just fits, micro-batch 4 not
    RunConfig cfg = RunConfigs.load(base, List.of("train.micro_batch=1"));
    ModelConfig model = ModelConfigs.load(Path.of(cfg.model().path()));
    long one = MemoryCheck.of(cfg, model, cfg.initialLayout(model), 160, 0).estimate().peak();
    double gib = (one + Budget.DEFAULT_RESERVE) / 0.95 / (1L << 30) + 1e-6;
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () -> train("too-big", List.of("train.memory_gib=" + gib), true, -1));
    Matcher m = Pattern.compile("set train.micro_batch to at most (\\d+)").matcher(e.getMessage());
    assertTrue(m.find(), e.getMessage());
    int best = Integer.parseInt(m.group(1));
    assertTrue(best >= 1 && best < 4, e.getMessage());
    assertTrue(e.getMessage().contains("train.memory_gib=" + gib), e.getMessage());
    assertTrue(!Files.exists(dir.resolve("runs/too-big/metrics.csv")), "stopped before training");
    RunResult fits =
        train(
            "fits",
            List.of("train.memory_gib=" + gib, "train.micro_batch=0", "train.steps=2"),
            true,
            -1);
    JsonNode report = new ObjectMapper().readTree(fits.paths().report().toFile());
    assertEquals(best, report.get("micro_batch").asInt(), "micro_batch 0: the largest that fits");
    assertTrue(
        report.get("memory_estimate_bytes").get("peak").asLong() <= Budget.ofGib(gib).usable(),
        "the estimate it passed");
  }

  @Test
  void onePartitionAndFourGiveTheSameLossCurveAndRankPlans() throws IOException {
    RunResult one = train("p1", List.of("spark.partitions=1"), true, -1);
    RunResult four = train("p4", List.of("spark.partitions=4", "train.micro_batch=2"), true, -1);
    assertNoSkippedStep(one.paths().metrics(), four.paths().metrics());
    List<String> a = column(one.paths().metrics(), 1);
    List<String> b = column(four.paths().metrics(), 1);
    for (int i = 0; i < a.size(); i++) {
      double x = Double.parseDouble(a.get(i));
      double y = Double.parseDouble(b.get(i));
      assertEquals(x, y, 1e-4 * Math.abs(x), "loss at step " + (i + 1));
    }
    assertEquals(
        column(one.paths().ranks(), 3), column(four.paths().ranks(), 3), "same rank plans");
  }

  @Test
  void aTaskThatFailsOnceIsRetriedWithIdenticalResults() throws IOException {
    RunResult clean = train("clean", TWO_TASKS, true, -1);
    RunResult retried = train("retried", TWO_TASKS, true, 5);
    assertSameRun(clean.paths().dir(), retried.paths().dir(), "task retried at step 5");
  }

  @Test
  void aRestartedDriverResumesFromTheLastCheckpointToTheSameAdapter() throws IOException {
    RunResult full = train("resume", TWO_TASKS, true, -1);
    Path reference = dir.resolve("resume-uninterrupted");
    FileUtils.copyDirectory(full.paths().dir().toFile(), reference.toFile());
    // as if the driver died after the checkpoint at step 4: later checkpoints and outputs are gone
    for (String step : List.of("step-000008", "step-000012")) {
      AtomicFiles.deleteTree(full.paths().checkpoints().resolve(step));
    }
    AtomicFiles.deleteTree(full.paths().adapter());
    RunResult resumed = train("resume", TWO_TASKS, false, -1);
    assertSameRun(reference, resumed.paths().dir(), "driver restarted at step 4");
    assertEquals(
        12,
        column(resumed.paths().metrics(), 0).size(),
        "metrics rows after step 4 rewritten once");
  }

  @Test
  void aKilledDriverProcessRestartedFinishesWithTheSameAdapter() throws Exception {
    // every part runs in a fresh driver JVM, as a user would run it
    List<String> longer = new ArrayList<>(TWO_TASKS);
    longer.addAll(List.of("train.steps=48", "run.baseline=false"));
    Path runs = dir.resolve("runs");
    Process full = driver("uninterrupted", longer, true);
    assertEquals(0, full.waitFor(), "uninterrupted run: " + log("uninterrupted"));

    Process killed = driver("killed", longer, true);
    Path firstCheckpoint = runs.resolve("killed").resolve("checkpoints").resolve("step-000004");
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (!Files.isDirectory(firstCheckpoint)
        && killed.isAlive()
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(killed.isAlive(), "the driver died on its own: " + log("killed"));
    killed
        .destroyForcibly()
        .waitFor(); // SIGKILL: no shutdown hooks, whatever was in flight is lost
    assertTrue(Files.isDirectory(firstCheckpoint), "no checkpoint within 5 min: " + log("killed"));
    assertTrue(
        !Files.exists(runs.resolve("killed").resolve("adapter")),
        "killed before the end, as intended (48 steps)");

    Process restarted = driver("killed", longer, false);
    assertEquals(0, restarted.waitFor(), "restarted run: " + log("killed"));
    Matcher resumed = Pattern.compile("resuming from step (\\d+)").matcher(log("killed"));
    assertTrue(resumed.find(), "it resumed from a checkpoint: " + log("killed"));
    assertTrue(Integer.parseInt(resumed.group(1)) >= 4, "from the newest complete checkpoint");
    Path done = runs.resolve("killed");
    assertTrue(Files.isRegularFile(done.resolve("adapter/adapter_model.safetensors")));
    List<String> steps = column(done.resolve("metrics.csv"), 0);
    assertEquals(
        IntStream.rangeClosed(1, 48).mapToObj(String::valueOf).toList(),
        steps,
        "one metrics row per step: none lost to the kill, none written twice");
    assertSameRun(runs.resolve("uninterrupted"), done, "driver JVM killed after step 4");
  }

  /** The CLI's train command for this test's config in a new JVM (this JVM's options). */
  private static Process driver(String name, List<String> sets, boolean fresh) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of("train", base.toString(), "--set", "run.name=" + name));
    if (fresh) {
      cmd.add("--fresh");
    }
    sets.forEach(kv -> cmd.addAll(List.of("--set", kv)));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(
            ProcessBuilder.Redirect.appendTo(dir.resolve(name + "-driver.log").toFile()))
        .start();
  }

  private static String log(String name) throws IOException {
    return Files.readString(dir.resolve(name + "-driver.log"));
  }
}
