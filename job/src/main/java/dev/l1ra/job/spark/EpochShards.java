package dev.l1ra.job.spark;

import dev.l1ra.core.data.DataOrder;
import dev.l1ra.core.data.Sample;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Places one epoch's samples on the workers: the epoch permutation of {@link DataOrder} puts sample
 * i at position pos(i); global batch s is positions [s·B, (s+1)·B), and slot k = pos mod B goes to
 * partition k mod P. Each partition holds its samples sorted by position, so at every step each of
 * the P tasks takes exactly B/P consecutive samples — and 1 or N partitions see the same global
 * batches. Rebuilt (one shuffle) per epoch, cached in between.
 */
final class EpochShards implements AutoCloseable {

  /** A partition's samples for the epoch, sorted by position. */
  record Shard(int[] positions, Sample[] samples) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The samples of a step: positions in [s·B, (s+1)·B). */
    List<Sample> forStep(int stepInEpoch, int globalBatch) {
      long lo = (long) stepInEpoch * globalBatch;
      long hi = lo + globalBatch;
      List<Sample> out = new ArrayList<>();
      for (int i = 0; i < positions.length; i++) {
        if (positions[i] >= lo && positions[i] < hi) {
          out.add(samples[i]);
        }
      }
      return out;
    }
  }

  final int epoch;
  final JavaRDD<Shard> shards;
  private final Broadcast<int[]> positions;

  private EpochShards(int epoch, JavaRDD<Shard> shards, Broadcast<int[]> positions) {
    this.epoch = epoch;
    this.shards = shards;
    this.positions = positions;
  }

  /**
   * @param indexed samples with their global index (sorted by id, then zipWithIndex)
   */
  static EpochShards build(
      JavaSparkContext sc,
      JavaPairRDD<Long, Sample> indexed,
      DataOrder order,
      int epoch,
      int globalBatch,
      int partitions) {
    int[] perm = order.permutation(epoch);
    int[] pos = new int[perm.length];
    for (int k = 0; k < perm.length; k++) {
      pos[perm[k]] = k;
    }
    int used = order.stepsPerEpoch() * globalBatch;
    Broadcast<int[]> bc = sc.broadcast(pos);
    JavaRDD<Shard> shards =
        indexed
            .mapToPair(t -> new Tuple2<>(bc.value()[(int) (long) t._1()], t._2()))
            .filter(t -> t._1() < used)
            .mapToPair(
                t ->
                    new Tuple2<>((t._1() % globalBatch) % partitions, new Tuple2<>(t._1(), t._2())))
            .partitionBy(new HashPartitioner(partitions))
            .mapPartitions(EpochShards::toShard, true)
            .persist(StorageLevel.MEMORY_AND_DISK());
    return new EpochShards(epoch, shards, bc);
  }

  private static Iterator<Shard> toShard(Iterator<Tuple2<Integer, Tuple2<Integer, Sample>>> it) {
    List<Tuple2<Integer, Sample>> all = new ArrayList<>();
    it.forEachRemaining(t -> all.add(t._2()));
    all.sort(Comparator.comparingInt(Tuple2::_1));
    int[] p = new int[all.size()];
    Sample[] s = new Sample[all.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = all.get(i)._1();
      s[i] = all.get(i)._2();
    }
    return List.of(new Shard(p, s)).iterator();
  }

  @Override
  public void close() {
    shards.unpersist(false);
    positions.destroy();
  }
}
