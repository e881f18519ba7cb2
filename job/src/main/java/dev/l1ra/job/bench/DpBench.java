package dev.l1ra.job.bench;

import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadCodec;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.job.spark.transport.ReducePlan;
import dev.l1ra.job.spark.transport.Reduced;
import dev.l1ra.job.spark.transport.Reduction;
import dev.l1ra.job.spark.transport.TransportTimes;
import dev.l1ra.job.spark.transport.TransportTimes.Phase;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-parallel communication pattern of one optimizer step (sync) or one round of H local
 * steps (rounds), on a real Spark context with a synthetic worker: broadcast the driver's state as
 * a payload, one task per partition decodes it, "computes" ({@link SyntheticWorker}) and returns
 * gradients (sync) or its state or state delta (rounds) as payload chunks, {@link Reduction} sums
 * them, the driver runs AdamW (sync) or averages (rounds). Each round is timed by phase.
 */
public final class DpBench {
  private static final Logger LOG = LoggerFactory.getLogger(DpBench.class);

  /** One optimizer step per Spark job, or H local steps per Spark job. */
  public enum Mode {
    SYNC,
    ROUNDS;

    public static Mode parse(String s) {
      for (Mode m : values()) {
        if (m.name().equalsIgnoreCase(s)) {
          return m;
        }
      }
      throw new IllegalArgumentException("mode \"" + s + "\" is not sync or rounds");
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * @param sizes elements of each adapter tensor, in layout order
   * @param roundSteps H: optimizer steps per Spark job (1 in sync mode)
   * @param rounds timed rounds, after {@code warmup} untimed ones
   */
  public record Settings(
      int[] sizes,
      int partitions,
      Mode mode,
      int roundSteps,
      PayloadDtype payload,
      ReducePlan plan,
      int rounds,
      int warmup) {}

  /**
   * Milliseconds of one round by phase; {@code total} is the round's wall time, the sum of the five
   * phases (unless the transfer residual was negative and shown as 0). broadcast: the driver's
   * encode and sc.broadcast plus the tasks' read and decode; tasks: the synthetic compute;
   * transfer: the rest of the Spark job (encoding, serialization, shuffle, result fetch,
   * scheduling); merge: reduce tasks' sums and the driver's placing; optimizer: the driver's AdamW
   * or averaging.
   */
  public record Round(
      int index,
      double total,
      double broadcast,
      double tasks,
      double transfer,
      double merge,
      double optimizer,
      double broadcastBuild,
      double broadcastRead,
      double encode,
      double reduceSum,
      double driverMerge,
      double driverGc) {}

  private final JavaSparkContext sc;
  private final Settings s;
  private final TransportTimes times = new TransportTimes();
  private final SparkTaskClock clock = new SparkTaskClock();
  private final List<float[]> params = new ArrayList<>();
  private final List<float[]> m = new ArrayList<>();
  private final List<float[]> v = new ArrayList<>();
  private final JavaRDD<Integer> shards;
  private final int slots;
  private int step;

  public DpBench(JavaSparkContext sc, Settings s) {
    this.sc = sc;
    this.s = s;
    for (int size : s.sizes()) {
      float[] p = new float[size];
      Arrays.fill(p, 0.01f);
      params.add(p);
      m.add(new float[size]);
      v.add(new float[size]);
    }
    sc.sc().register(times, "transport");
    sc.sc().addSparkListener(clock);
    int p = s.partitions();
    shards = sc.parallelize(IntStream.range(0, p).boxed().toList(), p);
    slots = Math.max(1, Math.min(p, sc.defaultParallelism()));
  }

  /** The timed rounds (warm-up rounds are run first and not returned). */
  public List<Round> run() {
    List<Round> out = new ArrayList<>();
    for (int r = -s.warmup(); r < s.rounds(); r++) {
      sc.setJobGroup(SparkTaskClock.group(r), "bench-dp round " + r, false);
      Round one = round(r);
      LOG.info("round {}: {} ms ({})", r, Math.round(one.total()), one);
      if (r >= 0) {
        out.add(one);
      }
    }
    return out;
  }

  /**
   * Spark's task metrics of a round, ms summed over its tasks (stage_wall: its stages' wall time),
   * after waiting up to 2 s for the listener bus to deliver them.
   */
  public Map<String, Double> sparkDetail(int round) throws InterruptedException {
    SparkTaskClock.Sums s = clock.of(round);
    long seen = -1;
    for (int i = 0; i < 20 && s.tasks != seen; i++) {
      seen = s.tasks;
      Thread.sleep(100);
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("stages", (double) s.stages);
    m.put("tasks", (double) s.tasks);
    m.put("stage_wall", s.stagesWall);
    m.put("task_deserialize", s.deserialize);
    m.put("task_run", s.run);
    m.put("task_gc", s.gc);
    m.put("result_serialize", s.resultSerialize);
    m.put("getting_result", s.gettingResult);
    m.put("shuffle_write", s.shuffleWrite);
    m.put("shuffle_fetch_wait", s.fetchWait);
    return m;
  }

  private static long gcMillis() {
    long ms = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, b.getCollectionTime());
    }
    return ms;
  }

  private Round round(int index) {
    times.reset();
    long gc0 = gcMillis();
    boolean sync = s.mode() == Mode.SYNC;
    long t0 = System.nanoTime();
    List<float[]> state = sync ? params : concat(params, m, v);
    Broadcast<Payload> bc = sc.broadcast(PayloadCodec.encode(state, PayloadDtype.FP32, 1, step));
    long t1 = System.nanoTime();
    int[] sizes = s.sizes();
    PayloadDtype dtype = s.payload();
    int chunks = s.plan().strategy() == ReducePlan.Strategy.SCATTER ? s.plan().chunks() : 1;
    int h = s.roundSteps();
    TransportTimes tt = times;
    JavaRDD<Payload> results =
        shards.mapPartitionsWithIndex(
            (p, it) -> task(p, bc, sizes, sync, h, dtype, chunks, tt), true);
    Reduced sum = Reduction.sum(results, s.plan(), times);
    long t2 = System.nanoTime();
    bc.destroy();
    long destroyed = System.nanoTime();
    if (sync) {
      FlatAdamW.step(params, m, v, sum.values(), ++step);
    } else {
      average(sum, dtype != PayloadDtype.FP32);
      step += h;
    }
    long t3 = System.nanoTime();
    return split(
        index, (t1 - t0) + (destroyed - t2), t2 - t1, t3 - destroyed, t3 - t0, gcMillis() - gc0);
  }

  /** One partition's task: read the state, compute, encode the result as chunks. */
  private static Iterator<Payload> task(
      int p,
      Broadcast<Payload> bc,
      int[] sizes,
      boolean sync,
      int h,
      PayloadDtype dtype,
      int chunks,
      TransportTimes times) {
    long t = System.nanoTime();
    Payload in = bc.value();
    List<float[]> state = PayloadCodec.decodeTensors(in);
    t = times.since(Phase.BROADCAST_READ, t);
    double tokens = h * (2048.0 + 64 * p);
    List<float[]> out;
    if (sync) {
      out = SyntheticWorker.gradients(sizes);
    } else {
      SyntheticWorker.localRound(state, sizes, h, p);
      out = state;
    }
    t = times.since(Phase.COMPUTE, t);
    List<Payload> chunked =
        sync
            ? PayloadCodec.encodeChunks(out, chunks, dtype, 1, tokens)
            : dtype == PayloadDtype.FP32
                ? PayloadCodec.encodeChunks(out, chunks, dtype, tokens, tokens)
                : PayloadCodec.encodeDeltaChunks(out, in, chunks, dtype, tokens, tokens);
    times.since(Phase.ENCODE, t);
    return chunked.iterator();
  }

  /**
   * The driver's new state: the token-weighted mean of the tasks' states (or base + mean delta).
   */
  private void average(Reduced sum, boolean delta) {
    float[] mean = sum.meanInPlace();
    int at = 0;
    for (float[] t : concat(params, m, v)) {
      for (int j = 0; j < t.length; j++) {
        t[j] = delta ? t[j] + mean[at + j] : mean[at + j];
      }
      at += t.length;
    }
  }

  private static List<float[]> concat(List<float[]> a, List<float[]> b, List<float[]> c) {
    List<float[]> out = new ArrayList<>(a);
    out.addAll(b);
    out.addAll(c);
    return out;
  }

  /**
   * Phases of a task stage as critical-path estimates: the larger of the slowest task and the
   * tasks' total spread over the task slots (tasks run in waves when partitions exceed slots).
   */
  private double stagePath(Phase p) {
    return Math.max(times.maxMs(p), times.sumMs(p) / slots);
  }

  /**
   * @param buildNs the driver building the broadcast (encode, sc.broadcast) and destroying it
   * @param jobNs the Spark job: from the tasks' launch until the driver holds the sum
   */
  private Round split(int index, long buildNs, long jobNs, long optNs, long wallNs, long gcMs) {
    double build = buildNs / 1e6;
    double job = jobNs / 1e6;
    double read = stagePath(Phase.BROADCAST_READ);
    double compute = stagePath(Phase.COMPUTE);
    double encode = stagePath(Phase.ENCODE);
    double reduce = stagePath(Phase.REDUCE_SUM);
    double driverMerge = times.sumMs(Phase.DRIVER_MERGE);
    double transfer = Math.max(0, job - read - compute - reduce - driverMerge);
    double opt = optNs / 1e6;
    double merge = reduce + driverMerge;
    double broadcast = build + read;
    double total = wallNs / 1e6;
    return new Round(
        index,
        total,
        broadcast,
        compute,
        transfer,
        merge,
        opt,
        build,
        read,
        encode,
        reduce,
        driverMerge,
        gcMs);
  }
}
