package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.spark.TaskFaults;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.spark.deploy.SparkSubmit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on real executor JVMs: {@code local-cluster[2,1,1536]} (a standalone master and two
 * workers, each starting its executor as a separate JVM from {@code $SPARK_HOME/jars}) with the
 * shaded cluster jar handed to Spark's own {@link SparkSubmit} as the application, so executors get
 * our classes the way a cluster gives them. The SPARK_HOME is assembled from this build's Spark
 * classpath (links), without our modules. Each mode (sync, rounds) runs undisturbed with Java
 * serialization, then again under Kryo with partition 0's executor JVM halted mid-run ({@link
 * TaskFaults}): Spark starts a new executor, retries the lost task, and the run must end with the
 * same losses and adapter.
 */
class LocalClusterIT {
  static final Path JAR = ClusterJarIT.JAR.toAbsolutePath();
  static final String MASTER = "local-cluster[2,1,1536]";

  /** Where each run's driver log is kept (the build folder; the runs themselves are temporary). */
  static final Path LOGS =
      Path.of(System.getProperty("l1ra.it.logs", "target/local-cluster-it")).toAbsolutePath();

  @TempDir static Path dir;
  static Path home;
  static Path base;

  @BeforeAll
  static void prepare() throws IOException {
    assertTrue(Files.isRegularFile(JAR), "no cluster jar at " + JAR + " (mvn -Pcluster package)");
    home = sparkHome(dir.resolve("spark-home"));
    base = dir.resolve("base.yaml");
    Files.writeString(
        base,
        """
        run: {name: t, output_dir: %1$s/runs, seed: 11, baseline: false}
        model: {path: %1$s/model, generate: tiny, precision: fp32, device: cpu, attention: plain}
        data:
          train: %1$s/data/prepared/train
          eval: %1$s/data/prepared/eval
          sample: {path: %1$s/data/sample.jsonl, rows: 240, seed: 5}
          prep: {input: %1$s/data/sample.jsonl, tokenizer: %1$s/model, template: llama3, seq_len: 160, out: %1$s/data/prepared, eval_fraction: 0.1}
        method: l1ra
        lora: {r: 4, alpha: 8, dropout: 0.0, init: gaussian}
        train: {steps: 8, global_batch: 8, micro_batch: 2, lr: 3.0e-3, warmup: 2, log_every: 1, eval_every: 0, checkpoint_every: 4}
        l1ra: {lambda: 0.5, eta_c: 5.0e-2, rank_update_steps: 4, prune_threshold: 0.9}
        spark: {master: "spark://unused:7077", partitions: 2, round_steps: 4}
        """
            .formatted(dir));
    RunConfig cfg = RunConfigs.load(base, List.of());
    Quickstart.prepareModel(cfg);
    SparkSession spark = SparkSessions.create("local-cluster-it-prep", "local[1]", Map.of());
    try {
      PrepCommand.runFromConfig(spark, cfg);
    } finally {
      spark.stop();
    }
  }

  /**
   * A SPARK_HOME whose jars/ links every jar of this JVM's classpath except our own modules (Spark,
   * its dependencies, DJL and the PyTorch CPU natives), and the launcher folder that tells Spark's
   * command builder the Scala version.
   */
  static Path sparkHome(Path home) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry);
      String name = p.getFileName().toString();
      if (name.endsWith(".jar") && !name.startsWith("l1ra-") && Files.isRegularFile(p)) {
        Path link = jars.resolve(name);
        if (!Files.exists(link)) {
          Files.createSymbolicLink(link, p.toAbsolutePath());
          n++;
        }
      }
    }
    assertTrue(n > 50, "too few jars for a SPARK_HOME: " + n);
    String scala = System.getProperty("l1ra.scala.binary.version", "2.13");
    Files.createDirectories(home.resolve("launcher/target/scala-" + scala));
    return home;
  }

  /** Runs {@code train} through SparkSubmit on the local cluster; returns the run folder. */
  private static Path train(String name, String mode, boolean kryo, int haltAt) throws Exception {
    return submit(name, "train", List.of("spark.mode=" + mode), kryo, haltAt);
  }

  /**
   * Runs {@code command} (run or train) with {@code more} settings through SparkSubmit on the local
   * cluster, the driver in the test folder; returns the run folder.
   */
  private static Path submit(
      String name, String command, List<String> more, boolean kryo, int haltAt) throws Exception {
    List<String> sets = new ArrayList<>(List.of("run.name=" + name));
    sets.addAll(more);
    Path marker = dir.resolve(name + ".halted");
    RunConfig cfg = RunConfigs.load(base, sets);
    List<String> extra = new ArrayList<>();
    sets.forEach(s -> extra.addAll(List.of("--set", s)));
    List<String> cmd =
        new ArrayList<>(
            SubmitCommand.command(
                JAR.toString(), base.toString(), cfg, extra.toArray(String[]::new)));
    cmd.set(cmd.indexOf("--master") + 1, MASTER);
    cmd.set(cmd.indexOf("run"), command); // train: prepared already; no eval or export needed
    int at = cmd.indexOf(JAR.toString());
    List<String> conf = new ArrayList<>();
    if (kryo) {
      conf.addAll(List.of("--conf", "spark.serializer=org.apache.spark.serializer.KryoSerializer"));
    }
    if (haltAt >= 0) {
      conf.addAll(List.of("--conf", TaskFaults.HALT_AT + "=" + haltAt));
      conf.addAll(List.of("--conf", TaskFaults.HALT_MARKER + "=" + marker));
    }
    cmd.addAll(at, conf);

    List<String> process = new ArrayList<>();
    process.add(ChildJvm.java());
    process.addAll(SubmitCommand.jvmOptions());
    process.addAll(List.of("-Xmx1g", "-cp", home.resolve("jars") + "/*"));
    process.add(SparkSubmit.class.getName());
    process.addAll(cmd.subList(1, cmd.size()));
    Path log = dir.resolve(name + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(process).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    pb.environment().put("MKL_DYNAMIC", "FALSE");
    pb.directory(dir.toFile());
    Process p = pb.start();
    boolean done = p.waitFor(360, TimeUnit.SECONDS);
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    String out = Files.readString(log);
    Files.createDirectories(LOGS);
    Files.copy(log, LOGS.resolve(name + ".log"), StandardCopyOption.REPLACE_EXISTING);
    assertTrue(done, name + ": no result in 360 s:\n" + tail(out));
    assertEquals(0, p.exitValue(), name + " failed:\n" + tail(out));
    assertFalse(
        out.contains("SerializedLambda"), name + ": executors lack our classes:\n" + tail(out));
    if (haltAt >= 0) {
      assertTrue(Files.exists(marker), name + ": no executor was halted:\n" + tail(out));
      assertTrue(
          out.contains("Lost executor") || out.contains("lost executor"),
          name + ": the driver saw no executor loss:\n" + tail(out));
    }
    return dir.resolve("runs").resolve(name);
  }

  private static String tail(String s) {
    return s.length() > 20_000 ? s.substring(s.length() - 20_000) : s;
  }

  /** The loss column of metrics.csv, one value per optimizer step. */
  private static double[] losses(Path run) throws IOException {
    List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
    int col = List.of(lines.get(0).split(",", -1)).indexOf("loss");
    return lines.stream()
        .skip(1)
        .map(l -> l.split(",", -1)[col])
        .filter(v -> !v.isEmpty())
        .mapToDouble(Double::parseDouble)
        .toArray();
  }

  private static void assertSameRun(Path want, Path got, double tol) throws IOException {
    double[] a = losses(want);
    double[] b = losses(got);
    assertEquals(8, a.length, "logged steps of " + want);
    assertArrayEquals(a, b, tol, "loss per step");
    double dLoss = 0;
    for (int i = 0; i < a.length; i++) {
      dLoss = Math.max(dLoss, Math.abs(a[i] - b[i]));
    }
    float dAdapter = 0;
    try (SafetensorsFile x =
            SafetensorsFile.open(want.resolve("adapter/adapter_model.safetensors"));
        SafetensorsFile y =
            SafetensorsFile.open(got.resolve("adapter/adapter_model.safetensors"))) {
      assertEquals(new TreeSet<>(x.names()), new TreeSet<>(y.names()));
      for (String n : x.names()) {
        assertArrayEquals(x.info(n).shape(), y.info(n).shape(), n);
        float[] u = x.floats(n);
        float[] v = y.floats(n);
        assertArrayEquals(u, v, (float) tol, "adapter tensor " + n);
        for (int i = 0; i < u.length; i++) {
          dAdapter = Math.max(dAdapter, Math.abs(u[i] - v[i]));
        }
      }
    }
    System.out.printf(
        "%s vs %s: max |Δloss| %.3g, max |Δadapter| %.3g%n",
        want.getFileName(), got.getFileName(), dLoss, dAdapter);
  }

  @Test
  void syncModeSurvivesALostExecutorUnderKryo() throws Exception {
    Path clean = train("sync-clean", "sync", false, -1);
    Path killed = train("sync-killed", "sync", true, 3);
    assertSameRun(clean, killed, 1e-5);
  }

  /**
   * Relative local paths in a cluster run resolve against the driver's working folder, also where
   * executors use them (an executor's own working folder is Spark's work folder): the tokenizer
   * that prep tasks load, the model that training tasks load, the prepared data.
   */
  @Test
  void relativePathsResolveOnTheDriverAlsoForExecutors() throws Exception {
    Path run =
        submit(
            "relative-paths",
            "run",
            List.of(
                "model.path=model",
                "data.prep.tokenizer=model",
                "data.prep.out=data/prepared-relative",
                "data.train=data/prepared-relative/train",
                "data.eval=data/prepared-relative/eval",
                "train.steps=2"),
            false,
            -1);
    assertTrue(
        Files.isRegularFile(dir.resolve("data/prepared-relative/stats.json")),
        "prep wrote nothing where the driver's relative path points");
    assertEquals(2, losses(run).length, "logged steps");
    assertTrue(Files.isRegularFile(run.resolve("adapter/adapter_model.safetensors")));
  }

  @Test
  void roundsModeSurvivesALostExecutorUnderKryo() throws Exception {
    Path clean = train("rounds-clean", "rounds", false, -1);
    Path killed = train("rounds-killed", "rounds", true, 4);
    assertSameRun(clean, killed, 1e-5);
  }
}
