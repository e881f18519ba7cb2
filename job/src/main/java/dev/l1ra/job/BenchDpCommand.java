package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.bench.DpBench;
import dev.l1ra.job.bench.DpBench.Mode;
import dev.l1ra.job.bench.DpBench.Round;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.job.spark.transport.ReducePlan;
import dev.l1ra.model.llama.RandomModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bench-dp --shape NAME --rank R --partitions P --master M --mode sync|rounds [--round-steps
 * H] [--payload fp32|fp16|bf16]}: the communication of data-parallel training on a real Spark
 * master with a synthetic worker ({@link DpBench}): no model, gradients and states of the layout's
 * sizes. The last line is one JSON object: ms_per_step (a round's wall time divided by H, median
 * over rounds) and its split into broadcast, tasks, transfer, merge and optimizer.
 */
final class BenchDpCommand {
  static final Set<String> FLAGS =
      Set.of(
          "shape",
          "layers",
          "rank",
          "partitions",
          "master",
          "mode",
          "round-steps",
          "payload",
          "reduce",
          "fan-in",
          "serializer",
          "steps",
          "warmup");

  private static final Pattern LOCAL_CLUSTER =
      Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]");

  private BenchDpCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("bench-dp", argv, FLAGS, Set.of());
    String shape = a.get("shape", "tiny");
    int rank = a.getPositive("rank", 16);
    int partitions = a.getPositive("partitions", 2);
    String master = a.get("master", "local[2]");
    Mode mode = a.get("mode", "sync", Mode::parse);
    int h = mode == Mode.SYNC ? 1 : a.getPositive("round-steps", 4);
    if (mode == Mode.SYNC && a.getInt("round-steps", 1) != 1) {
      throw new IllegalArgumentException("bench-dp: --round-steps needs --mode rounds");
    }
    PayloadDtype payload = a.get("payload", "fp32", PayloadDtype::parse);
    ReducePlan plan = plan(a, partitions);
    int[] sizes = sizes(shape, a, rank);
    DpBench.Settings s =
        new DpBench.Settings(
            sizes,
            partitions,
            mode,
            h,
            payload,
            plan,
            a.getPositive("steps", 5),
            a.getInt("warmup", 1));
    Map<String, String> conf = sparkConf(a, master);
    SparkSession spark = SparkSessions.create("l1ra-bench-dp", master, conf);
    try {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      DpBench bench = new DpBench(sc, s);
      List<Round> rounds = bench.run();
      ObjectNode o = json(a, s, shape, rank, master, conf, sc, rounds);
      ObjectNode tasks = o.putObject("spark_task_ms");
      bench.sparkDetail(median(rounds).index()).forEach((k, v) -> tasks.put(k, r1(v)));
      System.out.println(o);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench-dp interrupted", e);
    } finally {
      spark.stop();
    }
    return 0;
  }

  private static ReducePlan plan(Args a, int partitions) {
    String r = a.get("reduce", "auto");
    return switch (r) {
      case "auto" -> ReducePlan.forPartitions(partitions);
      case "direct" -> ReducePlan.direct(partitions);
      case "scatter" -> ReducePlan.scatter(partitions);
      case "tree" -> ReducePlan.tree(a.getInt("fan-in", ReducePlan.DEFAULT_FAN_IN));
      default ->
          throw new IllegalArgumentException(
              "bench-dp: --reduce is auto, direct, scatter or tree, got " + r);
    };
  }

  /** Elements of every adapter tensor (A then B of each module) of the shape's layout. */
  static int[] sizes(String shape, Args a, int rank) {
    ModelConfig c = RandomModels.shape(shape, 32000);
    if (a.has("layers")) {
      c = c.withNumLayers(a.getPositive("layers", c.numLayers()));
    }
    AdapterLayout layout =
        AdapterLayout.resolve(c, LoraSettings.uniform(rank, rank, List.of("all-linear")));
    List<Integer> out = new ArrayList<>();
    for (AdapterSpec sp : layout.specs()) {
      out.add(sp.rank() * sp.in());
      out.add(sp.out() * sp.rank());
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Spark settings: room for the results (spark.driver.maxResultSize 8g), no lz4 on broadcasts and
   * shuffles (float payloads do not compress: it costs CPU and saves no bytes), the serializer, on
   * a local-cluster master the executors' memory and JVM options; then --set overrides.
   */
  private static Map<String, String> sparkConf(Args a, String master) {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.driver.maxResultSize", "8g");
    conf.put("spark.broadcast.compress", "false");
    conf.put("spark.shuffle.compress", "false");
    String serializer = a.get("serializer", "java");
    if (serializer.equals("kryo")) {
      conf.put("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
      conf.put("spark.kryo.classesToRegister", Payload.class.getName());
    } else if (!serializer.equals("java")) {
      throw new IllegalArgumentException(
          "bench-dp: --serializer is java or kryo, got " + serializer);
    }
    Matcher m = LOCAL_CLUSTER.matcher(master);
    if (m.matches()) {
      requireSparkHome(master);
      conf.put("spark.executor.memory", m.group(3) + "m");
      conf.put("spark.executor.extraJavaOptions", String.join(" ", SubmitCommand.java17Opens()));
    }
    for (String kv : a.sets()) {
      int eq = kv.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("bench-dp: --set wants key=value, got " + kv);
      }
      conf.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return conf;
  }

  /** local-cluster starts executor JVMs from $SPARK_HOME/jars: it must exist. */
  private static void requireSparkHome(String master) {
    String home = System.getenv("SPARK_HOME");
    if (home == null || !Files.isDirectory(Path.of(home, "jars"))) {
      throw new IllegalArgumentException(
          "bench-dp: --master "
              + master
              + " starts executor JVMs from $SPARK_HOME/jars, and SPARK_HOME is "
              + (home == null ? "not set" : home + " without jars/")
              + "; run: export SPARK_HOME=$(scripts/spark-home.sh)");
    }
  }

  /** The round of median wall time. */
  private static Round median(List<Round> rounds) {
    List<Round> sorted = new ArrayList<>(rounds);
    sorted.sort(Comparator.comparingDouble(Round::total));
    return sorted.get(sorted.size() / 2);
  }

  private static ObjectNode json(
      Args a,
      DpBench.Settings s,
      String shape,
      int rank,
      String master,
      Map<String, String> conf,
      JavaSparkContext sc,
      List<Round> rounds) {
    Round med = median(rounds);
    double h = s.roundSteps();
    long n = 0;
    for (int size : s.sizes()) {
      n += size;
    }
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("mode", s.mode().toString());
    o.put("shape", shape);
    o.put("rank", rank);
    o.put("adapter_floats", n);
    o.put("payload", s.payload().toString());
    o.put("partitions", s.partitions());
    o.put("master", master);
    o.put(
        "executors",
        sc.sc().getExecutorMemoryStatus().size() - (master.startsWith("local[") ? 0 : 1));
    o.put("serializer", a.get("serializer", "java"));
    o.put("reduce", s.plan().toString());
    o.put("round_steps", s.roundSteps());
    o.put("rounds", rounds.size());
    o.put("ms_per_step", r1(med.total() / h));
    o.put("broadcast_ms", r1(med.broadcast() / h));
    o.put("tasks_ms", r1(med.tasks() / h));
    o.put("transfer_ms", r1(med.transfer() / h));
    o.put("merge_ms", r1(med.merge() / h));
    o.put("optimizer_ms", r1(med.optimizer() / h));
    ObjectNode d = o.putObject("round_detail_ms");
    d.put("broadcast_build", r1(med.broadcastBuild()));
    d.put("broadcast_read", r1(med.broadcastRead()));
    d.put("encode", r1(med.encode()));
    d.put("reduce_sum", r1(med.reduceSum()));
    d.put("driver_merge", r1(med.driverMerge()));
    d.put("driver_jvm_gc", r1(med.driverGc()));
    var all = o.putArray("round_ms");
    rounds.forEach(r -> all.add(r1(r.total())));
    long state = s.mode() == Mode.SYNC ? n : 3 * n;
    ObjectNode b = o.putObject("bytes_per_round");
    b.put("broadcast", 4 * state);
    b.put("up_per_task", (long) s.payload().bytes() * state);
    b.put("driver_in", (long) s.payload().bytes() * state * driverCopies(s));
    ObjectNode c = o.putObject("spark_conf");
    conf.forEach(
        (k, v) -> c.put(k, k.endsWith("extraJavaOptions") ? "(Spark's --add-opens list)" : v));
    return o;
  }

  /** Full copies the driver receives: one for a reduce-scatter, up to fan-in for a tree. */
  private static long driverCopies(DpBench.Settings s) {
    if (s.plan().strategy() == ReducePlan.Strategy.SCATTER) {
      return 1;
    }
    int n = s.partitions();
    while (n > s.plan().fanIn()) {
      n = (n + s.plan().fanIn() - 1) / s.plan().fanIn();
    }
    return n;
  }

  private static double r1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
