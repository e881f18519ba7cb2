package dev.l1ra.job;

import static dev.l1ra.job.TinyRuns.assertSameAdapter;
import static dev.l1ra.job.TinyRuns.column;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.report.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rounds of local steps ({@code spark.mode: rounds}) end to end on local[2], with Spark's Kryo
 * serializer (as many clusters set it; sync mode runs here under Kryo too): one worker in rounds
 * equals sync mode, a retried task and a resumed driver (outer Nesterov momentum included) repeat a
 * round bit for bit, and L1RA plans its events at round ends.
 */
class RoundsJobTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static Path base;

  @BeforeAll
  static void start() throws IOException {
    spark =
        SparkSessions.create(
            "rounds-test",
            "local[2]",
            Map.of(
                "spark.sql.shuffle.partitions",
                "4",
                "spark.serializer",
                "org.apache.spark.serializer.KryoSerializer"));
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
        train: {steps: 12, global_batch: 8, micro_batch: 4, lr: 3.0e-3, warmup: 2, log_every: 4, eval_every: 4, checkpoint_every: 4}
        l1ra: {lambda: 0.5, eta_c: 5.0e-2, rank_update_steps: 4, prune_threshold: 0.9}
        spark: {master: "local[2]", partitions: 1, mode: rounds, round_steps: 4}
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

  private static RunResult train(String name, List<String> sets, boolean fresh, int failOnce) {
    return TinyRuns.train(spark, base, name, sets, fresh, failOnce);
  }

  /** Metrics rows (step, loss, |g|, gates) and the rank history, as text. */
  private static void assertSameRun(Path want, Path got, String what) throws IOException {
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

  @Test
  void oneWorkerInRoundsTrainsAsSyncModeDoes() throws IOException {
    RunResult sync = train("one-sync", List.of("spark.mode=sync"), true, -1);
    RunResult rounds = train("one-rounds", List.of(), true, -1);
    List<String> a = column(sync.paths().metrics(), 1);
    List<String> b = column(rounds.paths().metrics(), 1);
    assertEquals(12, b.size(), "one metrics row per optimizer step");
    for (int i = 0; i < a.size(); i++) {
      double x = Double.parseDouble(a.get(i));
      assertEquals(x, Double.parseDouble(b.get(i)), 1e-5 * x, "loss at step " + (i + 1));
    }
    assertEquals(
        column(sync.paths().ranks(), 3), column(rounds.paths().ranks(), 3), "same rank plans");
    assertTrue(rounds.allocationEvents() > 0, "L1RA moved ranks at round ends");
    assertSameAdapter(sync.paths().dir(), rounds.paths().dir(), 1e-5, "rounds vs sync, P = 1");
    JsonNode rep = new ObjectMapper().readTree(rounds.paths().report().toFile());
    assertEquals("rounds", rep.get("spark_mode").asText(), rep.toString());
    assertEquals(4, rep.get("round_steps").asInt());
    List<String> gates = column(rounds.paths().metrics(), 10);
    assertEquals(List.of("", "", ""), gates.subList(0, 3), "no gate statistics inside a round");
    assertTrue(Double.parseDouble(gates.get(3)) > 0, "gate statistics at the round's end");
  }

  @Test
  void aRetriedRoundTaskRepeatsTheRoundBitForBit() throws IOException {
    List<String> two = List.of("spark.partitions=2");
    RunResult clean = train("two-clean", two, true, -1);
    RunResult retried = train("two-retried", two, true, 4);
    assertSameRun(clean.paths().dir(), retried.paths().dir(), "round task retried at step 4");
    RunResult sync = train("two-sync", List.of("spark.partitions=2", "spark.mode=sync"), true, -1);
    assertNotEquals(
        column(sync.paths().metrics(), 1).get(11),
        column(clean.paths().metrics(), 1).get(11),
        "two workers' local steps are not sync mode's steps");
  }

  @Test
  void aResumedDriverContinuesRoundsAndOuterMomentumBitForBit() throws IOException {
    List<String> sets =
        List.of("spark.partitions=2", "spark.outer_lr=0.7", "spark.outer_momentum=0.9");
    RunResult full = train("resume", sets, true, -1);
    Path reference = dir.resolve("resume-uninterrupted");
    FileUtils.copyDirectory(full.paths().dir().toFile(), reference.toFile());
    for (String step : List.of("step-000008", "step-000012")) {
      AtomicFiles.deleteTree(full.paths().checkpoints().resolve(step));
    }
    AtomicFiles.deleteTree(full.paths().adapter());
    RunResult resumed = train("resume", sets, false, -1);
    assertSameRun(reference, resumed.paths().dir(), "driver restarted at step 4");
    RunResult plain = train("resume-plain", List.of("spark.partitions=2"), true, -1);
    assertNotEquals(
        column(plain.paths().metrics(), 1).get(11),
        column(full.paths().metrics(), 1).get(11),
        "the outer update changes the trajectory");
  }

  @Test
  void syncModeRunsUnderKryoToo() throws IOException {
    RunResult r = train("kryo-sync", List.of("spark.mode=sync", "spark.partitions=2"), true, -1);
    assertEquals(12, column(r.paths().metrics(), 0).size());
    assertTrue(Files.isRegularFile(r.paths().adapter().resolve("adapter_model.safetensors")));
  }
}
