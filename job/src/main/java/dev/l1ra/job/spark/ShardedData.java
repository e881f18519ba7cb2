package dev.l1ra.job.spark;

import dev.l1ra.core.data.DataOrder;
import dev.l1ra.core.data.Sample;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training samples placed on the workers for the epoch at hand ({@link EpochShards}, rebuilt
 * when a step enters a new epoch), with the data order both data-parallel modes share, and the
 * seconds the Spark jobs and their compute took.
 */
final class ShardedData implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedData.class);

  final JavaSparkContext sc;
  final DataOrder order;
  final int globalBatch;
  final int partitions;
  final ExecutorSeconds compute = new ExecutorSeconds();
  private final JavaPairRDD<Long, Sample> indexed;
  private final int[] learned;
  private EpochShards epoch;
  private double sparkSeconds;
  private double computeSeconds;
  private int steps;

  /**
   * @param samples training samples in their global order (sorted by id), with their index
   */
  ShardedData(
      JavaSparkContext sc,
      JavaPairRDD<Long, Sample> samples,
      int[] learnedTokens,
      long seed,
      int globalBatch,
      int partitions) {
    this.sc = sc;
    this.indexed = samples;
    this.learned = learnedTokens;
    this.order = new DataOrder(seed, learnedTokens.length, globalBatch);
    this.globalBatch = globalBatch;
    this.partitions = partitions;
    sc.sc().register(compute, "l1ra training compute");
  }

  /** The shards of the epoch that contains {@code step}. */
  EpochShards shardsFor(int step) {
    int e = order.epochOf(step);
    if (epoch == null || epoch.epoch != e) {
      if (epoch != null) {
        epoch.close();
      }
      LOG.info("placing epoch {} on {} partition(s)", e, partitions);
      epoch = EpochShards.build(sc, indexed, order, e, globalBatch, partitions);
    }
    return epoch;
  }

  /** The exclusive end of the epoch that contains {@code step}. */
  int epochEnd(int step) {
    return (order.epochOf(step) + 1) * order.stepsPerEpoch();
  }

  int learnedTokens(int sampleIndex) {
    return learned[sampleIndex];
  }

  int size() {
    return learned.length;
  }

  /** Starts timing a Spark job: its compute is recorded from now. */
  long startJob() {
    compute.reset();
    return System.nanoTime();
  }

  /** Ends timing a Spark job that ran {@code optimizerSteps} steps. */
  void endJob(long startNanos, int optimizerSteps) {
    sparkSeconds += (System.nanoTime() - startNanos) / 1e9;
    computeSeconds += compute.criticalPath();
    steps += optimizerSteps;
  }

  /** Wall seconds of the training Spark jobs so far (compute included). */
  double sparkSeconds() {
    return sparkSeconds;
  }

  /** Seconds of compute on the busiest executor of each job, summed over jobs. */
  double computeSeconds() {
    return computeSeconds;
  }

  /** Optimizer steps the jobs of this process ran (a resumed run's earlier steps not counted). */
  int steps() {
    return steps;
  }

  @Override
  public void close() {
    if (epoch != null) {
      epoch.close();
    }
  }
}
