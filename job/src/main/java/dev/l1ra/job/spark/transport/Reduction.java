package dev.l1ra.job.spark.transport;

import dev.l1ra.job.spark.transport.TransportTimes.Phase;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ContextCleaner;
import org.apache.spark.Dependency;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Sums the payloads of an RDD's partitions (Σ wᵢ·xᵢ, Σ wᵢ, summed scalars) without the driver
 * receiving one full copy per partition, and deterministically: summation order follows partition
 * indices (then the order of payloads inside a partition), never task timing. See {@link
 * ReducePlan} for the two strategies. Runs one Spark job.
 *
 * <p>Input: each partition yields whole payloads (chunk 0 of 1), or, for a reduce-scatter, either
 * whole payloads (sliced here, one copy) or exactly the plan's chunks from {@link
 * PayloadCodec#encodeChunks} (no copy). All partitions must encode the same layout.
 */
public final class Reduction {
  private static final int SEQ_BITS = 20;
  private static final int SRC_BITS = 24;

  private Reduction() {}

  /**
   * Sums the payloads.
   *
   * @param times where reduce tasks and the driver record their time, or null
   */
  public static Reduced sum(JavaRDD<Payload> partials, ReducePlan plan, TransportTimes times) {
    if (partials.getNumPartitions() >= 1 << SRC_BITS) {
      throw new IllegalArgumentException(
          "reduction of " + partials.getNumPartitions() + " partitions: at most 2^24");
    }
    return plan.strategy() == ReducePlan.Strategy.SCATTER
        ? scatter(partials, plan, times)
        : tree(partials, plan, times);
  }

  private static Reduced scatter(JavaRDD<Payload> partials, ReducePlan plan, TransportTimes times) {
    int chunks = plan.chunks();
    PayloadDtype out = plan.resultDtype();
    JavaPairRDD<Long, Payload> keyed =
        partials
            .mapPartitionsWithIndex((src, it) -> chunkKeys(src, it, chunks), true)
            .mapToPair(t -> t);
    JavaPairRDD<Long, Payload> shuffled =
        keyed.repartitionAndSortWithinPartitions(new ChunkPartitioner(chunks));
    List<Payload> summed = shuffled.mapPartitions(it -> sumRuns(it, out, times)).collect();
    releaseShuffle(shuffled);
    long t0 = System.nanoTime();
    Payload first = summed.get(0);
    float[] full = new float[Math.toIntExact(first.totalLength())];
    for (Payload p : summed) {
      PayloadCodec.decodeInto(p, full);
    }
    if (times != null) {
      times.since(Phase.DRIVER_MERGE, t0);
    }
    return new Reduced(full, first.weight(), first.scalars());
  }

  /** Keys (chunk, source partition, sequence) of one partition's payloads, sliced if whole. */
  private static Iterator<Tuple2<Long, Payload>> chunkKeys(
      int src, Iterator<Payload> it, int chunks) {
    List<Tuple2<Long, Payload>> out = new ArrayList<>();
    long seq = 0;
    while (it.hasNext()) {
      Payload p = it.next();
      if (p.chunks() == chunks) {
        out.add(new Tuple2<>(key(p.chunk(), src, seq++), p));
      } else if (p.chunks() == 1) {
        for (int c = 0; c < chunks; c++) {
          out.add(new Tuple2<>(key(c, src, seq++), PayloadCodec.slice(p, c, chunks)));
        }
      } else {
        throw new IllegalArgumentException(
            "partition "
                + src
                + " yields chunk "
                + p.chunk()
                + " of "
                + p.chunks()
                + "; the reduction wants whole payloads or "
                + chunks
                + " chunks");
      }
    }
    return out.iterator();
  }

  private static long key(long group, long src, long seq) {
    if (seq >= 1L << SEQ_BITS) {
      throw new IllegalArgumentException("more than 2^20 payloads in partition " + src);
    }
    return group << (SRC_BITS + SEQ_BITS) | src << SEQ_BITS | seq;
  }

  private static int groupOf(long key) {
    return (int) (key >>> (SRC_BITS + SEQ_BITS));
  }

  /** Sums each run of equal group (keys arrive sorted) into one payload, in key order. */
  private static Iterator<Payload> sumRuns(
      Iterator<Tuple2<Long, Payload>> it, PayloadDtype out, TransportTimes times) {
    List<Payload> sums = new ArrayList<>();
    PayloadSum sum = new PayloadSum();
    int group = -1;
    long t0 = System.nanoTime();
    while (it.hasNext()) {
      Tuple2<Long, Payload> kv = it.next();
      int g = groupOf(kv._1());
      if (g != group && !sum.isEmpty()) {
        sums.add(sum.toPayload(out == null ? kv._2().dtype() : out));
        sum = new PayloadSum();
      }
      group = g;
      sum.add(kv._2());
    }
    if (!sum.isEmpty()) {
      sums.add(sum.toPayload(out == null ? sum.dtype() : out));
    }
    if (times != null) {
      times.since(Phase.REDUCE_SUM, t0);
    }
    return sums.iterator();
  }

  private static Reduced tree(JavaRDD<Payload> partials, ReducePlan plan, TransportTimes times) {
    int fanIn = plan.fanIn();
    PayloadDtype out = plan.resultDtype();
    JavaRDD<Payload> level = partials;
    List<JavaPairRDD<Long, Payload>> shuffles = new ArrayList<>();
    int n = partials.getNumPartitions();
    while (n > fanIn) {
      int groups = (n + fanIn - 1) / fanIn;
      JavaPairRDD<Long, Payload> shuffled =
          level
              .mapPartitionsWithIndex((src, it) -> groupKeys(src, it, fanIn), true)
              .mapToPair(t -> t)
              .repartitionAndSortWithinPartitions(new ChunkPartitioner(groups));
      shuffles.add(shuffled);
      level = shuffled.mapPartitions(it -> sumRuns(it, out, times));
      n = groups;
    }
    List<Payload> collected = level.collect();
    shuffles.forEach(Reduction::releaseShuffle);
    long t0 = System.nanoTime();
    PayloadSum sum = new PayloadSum();
    for (Payload p : collected) {
      sum.add(p);
    }
    if (times != null) {
      times.since(Phase.DRIVER_MERGE, t0);
    }
    return new Reduced(sum.values(), sum.weight(), sum.scalars());
  }

  /**
   * Asks the executors to delete a finished shuffle's files now. Spark would delete them only after
   * a driver GC notices the RDD is gone (spark.cleaner.periodicGC.interval, 30 min by default), and
   * every step writes P full payloads: 1.3 GB a step for 8 partitions of an 8B adapter.
   * ContextCleaner is Spark-internal (public in bytecode); without a cleaner, Spark's own applies.
   */
  private static void releaseShuffle(JavaPairRDD<Long, Payload> shuffled) {
    ContextCleaner cleaner = shuffled.context().cleaner().getOrElse(() -> null);
    Dependency<?> dep = shuffled.rdd().dependencies().head();
    if (cleaner != null && dep instanceof ShuffleDependency<?, ?, ?> s) {
      cleaner.doCleanupShuffle(s.shuffleId(), false);
    }
  }

  private static Iterator<Tuple2<Long, Payload>> groupKeys(
      int src, Iterator<Payload> it, int fanIn) {
    List<Tuple2<Long, Payload>> out = new ArrayList<>();
    long seq = 0;
    while (it.hasNext()) {
      out.add(new Tuple2<>(key(src / fanIn, src, seq++), it.next()));
    }
    return out.iterator();
  }

  /** Key → the group (chunk, or tree group) in its top bits; one reduce partition per group. */
  static final class ChunkPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int groups;

    ChunkPartitioner(int groups) {
      this.groups = groups;
    }

    @Override
    public int numPartitions() {
      return groups;
    }

    @Override
    public int getPartition(Object key) {
      return groupOf((Long) key);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ChunkPartitioner c && c.groups == groups;
    }

    @Override
    public int hashCode() {
      return groups;
    }
  }
}
