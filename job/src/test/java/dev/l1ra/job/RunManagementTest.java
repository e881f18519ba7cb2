package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.util.Digests;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.job.run.RunLock;
import dev.l1ra.model.train.Checkpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a scheduled pipeline relies on when it runs the same command again and again: --fresh starts
 * in a clean folder, a resume only continues the same run, a finished run is left alone, two jobs
 * never share a run folder, and the report and adapter say where they came from.
 */
class RunManagementTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static Path base;

  @BeforeAll
  static void start() throws IOException {
    spark =
        SparkSessions.create("runs-test", "local[2]", Map.of("spark.sql.shuffle.partitions", "4"));
    base = TinyRuns.setUp(spark, dir);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static RunResult train(String name, boolean fresh, String... sets) {
    return TrainJob.run(spark, TinyRuns.config(base, name, sets), fresh);
  }

  private static RunPaths paths(String name) {
    return new RunPaths(dir.resolve("runs").resolve(name));
  }

  /** Every file of a run (lock aside) with its size, modification time and content digest. */
  private static Map<String, String> snapshot(Path run) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(run)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        if (!f.getFileName().toString().equals(".lock")) {
          out.put(
              run.relativize(f).toString(),
              Files.size(f) + " " + Files.getLastModifiedTime(f) + " " + Digests.ofFile(f));
        }
      }
    }
    return out;
  }

  @Test
  void freshMovesTheEarlierRunAsideSoItsCheckpointsNeverMixWithTheNewOnes() throws IOException {
    train("fresh", false); // checkpoints at steps 2 and 4
    RunPaths p = paths("fresh");
    train("fresh", true, "train.steps=2", "train.checkpoint_every=1");
    assertEquals(
        List.of("step-000001", "step-000002"),
        TinyRuns.names(p.checkpoints()),
        "only the fresh run's checkpoints (retention kept the earlier run's higher steps)");
    assertEquals(List.of("1", "2"), TinyRuns.column(p.metrics(), 0));
    List<String> aside =
        TinyRuns.names(dir.resolve("runs")).stream()
            .filter(n -> n.startsWith("fresh.old-"))
            .toList();
    assertEquals(1, aside.size(), "the earlier run, moved aside: " + aside);
    Path old = dir.resolve("runs").resolve(aside.get(0));
    assertEquals(List.of("step-000002", "step-000004"), TinyRuns.names(old.resolve("checkpoints")));
    assertTrue(Files.isRegularFile(old.resolve("report.json")));

    train("fresh", false, "train.steps=3", "train.checkpoint_every=1");
    assertEquals(
        List.of("1", "2", "3"),
        TinyRuns.column(p.metrics(), 0),
        "continued the fresh run from its step 2");
  }

  @Test
  void aCheckpointOfAnotherRunIsRefusedNamingTheKeysAndNothingChanges() throws IOException {
    train("other", false);
    RunPaths p = paths("other");
    Map<String, String> before = snapshot(p.dir());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> train("other", false, "method=lora"));
    String m = e.getMessage();
    assertTrue(m.contains("method was l1ra, now lora"), m);
    assertTrue(m.contains(p.checkpoints().resolve("step-000004").toString()), m);
    assertTrue(m.contains("--fresh") && m.contains(p.config().toString()), m);
    String r =
        assertThrows(IllegalStateException.class, () -> train("other", false, "lora.r=8"))
            .getMessage();
    assertTrue(r.contains("adapters was 28 adapters on"), r);
    assertEquals(before, snapshot(p.dir()), "adapter, report, metrics, config, checkpoints kept");

    // a checkpoint written before fingerprints existed resumes (with a warning)
    Path state = p.checkpoints().resolve("step-000004").resolve(Checkpoint.STATE);
    ObjectNode json = (ObjectNode) new ObjectMapper().readTree(state.toFile());
    json.remove("fingerprint");
    Files.write(state, new ObjectMapper().writeValueAsBytes(json));
    train("other", false, "train.steps=6");
    assertEquals(6, TinyRuns.column(p.metrics(), 0).size());
  }

  @Test
  void aFinishedRunIsLeftAsItIsAndMoreStepsContinueItsTotals() throws IOException {
    train("done", false);
    RunPaths p = paths("done");
    Files.createDirectories(p.dir().resolve(".adapter.tmp-crash"));
    Files.writeString(p.dir().resolve(".adapter.tmp-crash").resolve("x"), "partial");
    Files.createDirectories(p.checkpoints().resolve(".step-000004.tmp-crash"));
    Files.writeString(p.dir().resolve(".report.json.tmp-crash"), "{");
    Map<String, String> outputs = snapshot(p.dir());
    outputs.keySet().removeIf(k -> k.contains(".tmp-crash"));

    TrainJob.Outcome o = TrainJob.runWithBaseline(spark, TinyRuns.config(base, "done"), false);
    assertNotNull(o.finished(), "reported as finished");
    assertNull(o.run(), "nothing trained");
    assertEquals(outputs, snapshot(p.dir()), "report, adapter, metrics, checkpoints untouched");
    JsonNode line = new ObjectMapper().readTree(Summaries.finished(o.finished()));
    assertTrue(line.get("finished").asBoolean());
    assertEquals(4, line.get("steps").asInt());
    double loss =
        new ObjectMapper().readTree(p.report().toFile()).get("final_train_loss").asDouble();

    // exported again from its final checkpoint (as a baseline's rerun is): the loss is kept
    RunResult again = train("done", false);
    assertEquals(loss, again.summary().finalLoss(), "the final loss comes from the checkpoint");
    JsonNode summary = new ObjectMapper().readTree(Summaries.json(again, null));
    assertTrue(summary.get("final_train_loss").isNumber(), "never \"NaN\": " + summary);

    train("done", false, "train.steps=6");
    assertEquals(
        IntStream.rangeClosed(1, 6).mapToObj(String::valueOf).toList(),
        TinyRuns.column(p.metrics(), 0));
    List<Long> tokens = TinyRuns.column(p.metrics(), 6).stream().map(Long::valueOf).toList();
    List<Double> seconds = TinyRuns.column(p.metrics(), 8).stream().map(Double::valueOf).toList();
    for (int i = 1; i < 6; i++) {
      assertTrue(
          tokens.get(i) > tokens.get(i - 1), "cumulative tokens after the resume: " + tokens);
      assertTrue(seconds.get(i) >= seconds.get(i - 1), "cumulative seconds: " + seconds);
    }
    assertEquals(
        List.of(), TinyRuns.names(p.dir()).stream().filter(n -> n.contains(".tmp")).toList());
    assertFalse(
        Files.exists(p.checkpoints().resolve(".step-000004.tmp-crash")), "leftovers removed");
  }

  @Test
  void theReportAndTheAdapterSayWhatTheyCameFromAndTheBaseModelResolvesAnywhere()
      throws IOException {
    Path model = dir.resolve("model");
    String relative = Path.of("").toAbsolutePath().relativize(model).toString();
    RunResult r = train("provenance", false, "model.path=" + relative, "train.steps=2");
    JsonNode prov = new ObjectMapper().readTree(r.paths().report().toFile()).get("provenance");
    for (String k :
        List.of("l1ra_spark_version", "git_commit", "spark", "djl", "libtorch", "device")) {
      assertTrue(prov.hasNonNull(k) && !prov.get(k).asText().isBlank(), k + " in " + prov);
    }
    assertEquals(spark.version(), prov.get("spark").asText());
    assertTrue(prov.get("data_fingerprint").asText().matches("\\d+ samples, \\d+ tokens, .*"));
    JsonNode file = new ObjectMapper().readTree(r.paths().provenance().toFile());
    assertEquals(prov.get("git_commit"), file.get("git_commit"), "adapter/provenance.json");
    JsonNode adapter =
        new ObjectMapper().readTree(r.paths().adapter().resolve("adapter_config.json").toFile());
    assertEquals(
        model.toAbsolutePath().normalize().toString(),
        adapter.get("base_model_name_or_path").asText(),
        "absolute, though model.path was " + relative);
  }

  @Test
  void aSecondJobOnARunInUseFailsFastNamingTheFolderAndTheHolder() throws Exception {
    RunPaths p = paths("busy");
    Process holder =
        new ProcessBuilder(
                ChildJvm.command(LockHolder.class.getName(), List.of(p.lock().toString())))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("locked", out.readLine(), "the child took the lock");
      String e = assertThrows(IllegalStateException.class, () -> train("busy", false)).getMessage();
      assertTrue(e.contains("run folder " + p.dir() + " is in use by another job"), e);
      assertTrue(e.contains("pid " + holder.pid() + " on "), "names the holder: " + e);
      assertFalse(Files.exists(p.metrics()), "stopped before training");
    } finally {
      holder.destroy();
      holder.waitFor();
    }
    try (RunLock free = RunLock.acquire(p.lock())) {
      assertNotNull(free, "released when its holder's process ended");
    }
  }

  @Test
  void sigtermStopsAtAStepWithACheckpointAndTheResumedRunEqualsAnUndisturbedOne() throws Exception {
    String[] sets = {"train.steps=16", "train.checkpoint_every=8"};
    RunResult calm = train("calm", false, sets);
    RunPaths p = paths("sig");
    Path log = dir.resolve("sig.log");
    List<String> args = new ArrayList<>(List.of("train", base.toString(), "--set", "run.name=sig"));
    for (String kv : sets) {
      args.addAll(List.of("--set", kv));
    }
    ProcessBuilder pb =
        new ProcessBuilder(ChildJvm.command(Main.class.getName(), args))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("L1RA_LAUNCHER", "./submit.sh --local");
    Process child = pb.start();
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (child.isAlive() && System.nanoTime() < deadline && rows(p.metrics()) < 3) {
      Thread.sleep(50);
    }
    assertTrue(child.isAlive(), "the run ended on its own: " + Files.readString(log));
    child.destroy(); // SIGTERM
    assertTrue(child.waitFor(120, TimeUnit.SECONDS), "still running 2 min after SIGTERM");
    String out = Files.readString(log);
    assertEquals(143, child.exitValue(), out);
    Matcher m =
        Pattern.compile(
                "(?m)^stopped by SIGTERM: stopped after step (\\d+) of 16; checkpoint (\\S+)\\."
                    + " Resume with: (.*)$")
            .matcher(out);
    assertTrue(m.find(), out);
    int step = Integer.parseInt(m.group(1));
    assertTrue(step >= 3 && step < 16, "stopped at step " + step);
    assertEquals(Checkpoint.folder(p.checkpoints(), step).toString(), m.group(2));
    assertEquals("./submit.sh --local " + String.join(" ", args), m.group(3));
    assertFalse(out.contains("\tat "), "no stack trace:\n" + out);

    train("sig", false, sets);
    assertEquals(
        TinyRuns.column(calm.paths().metrics(), 0),
        TinyRuns.column(p.metrics(), 0),
        "one row a step");
    for (int col : new int[] {1, 5, 6, 10, 11}) {
      assertEquals(
          TinyRuns.column(calm.paths().metrics(), col),
          TinyRuns.column(p.metrics(), col),
          "metrics.csv column " + col + " after the stop and resume at step " + step);
    }
    assertEquals(
        Files.readAllLines(calm.paths().ranks()), Files.readAllLines(p.ranks()), "rank history");
    assertEquals(
        Digests.ofFile(calm.paths().adapter().resolve("adapter_model.safetensors")),
        Digests.ofFile(p.adapter().resolve("adapter_model.safetensors")),
        "the same adapter, bit for bit");
  }

  @Test
  void preparedDataIsReusedOnlyWhileItsInputAndSettingsAreUnchangedAndARunRefusesOtherData()
      throws IOException {
    Path input = dir.resolve("data").resolve("input2.jsonl");
    Files.copy(dir.resolve("data").resolve("sample.jsonl"), input);
    Path out = dir.resolve("data").resolve("prep2");
    String[] sets = {
      "data.prep.input=" + input,
      "data.prep.out=" + out,
      "data.train=" + out.resolve("train"),
      "data.eval=" + out.resolve("eval"),
      "train.steps=2"
    };
    PrepCommand.runFromConfig(spark, TinyRuns.config(base, "swap", sets));
    Map<String, String> prepared = snapshot(out);
    PrepCommand.runFromConfig(spark, TinyRuns.config(base, "swap", sets));
    assertEquals(prepared, snapshot(out), "same input and settings: reused as it is");
    TrainJob.run(spark, TinyRuns.config(base, "swap", sets), false);

    // fewer rows in the input: prepared again (leftovers of failed preps beside it removed)
    List<String> rows = Files.readAllLines(input);
    Files.write(input, rows.subList(0, rows.size() - 40));
    Files.createDirectories(dir.resolve("data").resolve(".prep2.tmp-1"));
    Files.createDirectories(dir.resolve("data").resolve("prep2.failed"));
    PrepCommand.runFromConfig(spark, TinyRuns.config(base, "swap", sets));
    JsonNode stats = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
    assertEquals(rows.size() - 40, stats.get("rows_read").asLong(), stats.toString());
    assertEquals(
        List.of("input2.jsonl", "prep2", "prepared", "sample.jsonl"),
        TinyRuns.names(dir.resolve("data")));

    // the run trained on the earlier data does not resume on this
    String e =
        assertThrows(
                IllegalStateException.class,
                () -> TrainJob.run(spark, TinyRuns.config(base, "swap", sets), false))
            .getMessage();
    assertTrue(e.contains("data.train was "), e);

    // a prep setting changed: prepared again
    String[] other = Arrays.copyOf(sets, sets.length + 1);
    other[sets.length] = "data.prep.eval_fraction=0.2";
    PrepCommand.runFromConfig(spark, TinyRuns.config(base, "swap", other));
    stats = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
    assertEquals(
        "0.2", stats.get("fingerprint").get("prep.eval_fraction").asText(), stats.toString());
  }

  @Test
  void anInputErrorRaisedInASparkTaskReachesTheUserAsItsOwnMessage() throws IOException {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Exception e =
        assertThrows(
            Exception.class,
            () ->
                sc.parallelize(List.of(1, 2), 2)
                    .map(
                        i -> {
                          if (i == 2) {
                            throw new IllegalArgumentException("row 2 is bad; fix it");
                          }
                          return i;
                        })
                    .collect());
    assertFalse(e instanceof IllegalArgumentException, "arrives wrapped by Spark: " + e);
    assertEquals("row 2 is bad; fix it", Main.inputError(e).getMessage());
    Exception bug =
        assertThrows(
            Exception.class,
            () ->
                sc.parallelize(List.of(1), 1)
                    .map(
                        i -> {
                          throw new ArithmeticException("a bug, not an input error");
                        })
                    .collect());
    assertNull(Main.inputError(bug), "a bug keeps its stack trace");

    // a truncated weights file stops the run on the driver, before any Spark work
    Path broken = dir.resolve("broken-model");
    Files.createDirectories(broken);
    try (Stream<Path> s = Files.list(dir.resolve("model"))) {
      for (Path f : s.toList()) {
        Files.copy(f, broken.resolve(f.getFileName()));
      }
    }
    Path weights = broken.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(weights);
    Files.write(weights, Arrays.copyOf(all, all.length - 100));
    RuntimeException t =
        assertThrows(RuntimeException.class, () -> train("broken", false, "model.path=" + broken));
    String m = Main.inputError(t).getMessage();
    assertTrue(m.contains("model.safetensors") && m.contains("truncated"), m);
    assertFalse(Files.exists(paths("broken").metrics()), "stopped before training");
  }

  private static int rows(Path metrics) throws IOException {
    return Files.exists(metrics) ? TinyRuns.column(metrics, 0).size() : 0;
  }
}
