package dev.l1ra.job.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.data.DataOrder;
import dev.l1ra.core.data.Sample;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.train.GradientSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous data parallelism on Spark, in the style of MLlib's gradient descent: each optimizer
 * step is one Spark job — broadcast the driver's adapter values, let every partition's task compute
 * the token-weighted gradient sums of its B/P samples with the executor's cached model, and combine
 * the partial sums with treeAggregate. The driver applies the optimizer.
 */
public final class SparkGradients implements GradientSource {
  private static final Logger LOG = LoggerFactory.getLogger(SparkGradients.class);

  private final JavaSparkContext sc;
  private final JavaPairRDD<Long, Sample> indexed;
  private final int[] learned;
  private final WorkerSpec spec;
  private final DataOrder order;
  private final int globalBatch;
  private final int partitions;
  private final NDManager manager;
  private EpochShards epoch;
  private double sparkSeconds;
  private double computeSeconds;
  private int steps;

  /**
   * @param samples training samples in their global order (sorted by id)
   * @param manager where gradient arrays are created on the driver (the optimizer's device)
   */
  public SparkGradients(
      JavaSparkContext sc,
      JavaPairRDD<Long, Sample> samples,
      int[] learnedTokens,
      WorkerSpec spec,
      long seed,
      int globalBatch,
      int partitions,
      NDManager manager) {
    this.sc = sc;
    this.indexed = samples;
    this.learned = learnedTokens;
    this.spec = spec;
    this.order = new DataOrder(seed, learnedTokens.length, globalBatch);
    this.globalBatch = globalBatch;
    this.partitions = partitions;
    this.manager = manager;
  }

  @Override
  public StepGradients compute(
      int step, int[] sampleIndices, AdapterSet adapters, double lossScale, long seed) {
    long t0 = System.nanoTime();
    EpochShards shards = shardsFor(order.epochOf(step));
    double normalizer = 0;
    for (int i : sampleIndices) {
      normalizer += learned[i];
    }
    StepInput in = StepInput.of(step, adapters, Math.max(1, normalizer), lossScale, seed);
    Broadcast<StepInput> bc = sc.broadcast(in);
    int stepInEpoch = step % order.stepsPerEpoch();
    WorkerSpec ws = spec;
    int b = globalBatch;
    GradPartial sum =
        shards
            .shards
            .mapPartitionsWithIndex(
                (p, it) -> {
                  StepInput s = bc.value();
                  TaskFaults.maybeFail(s.step(), p);
                  List<Sample> mine = it.next().forStep(stepInEpoch, b);
                  long seedP = s.seed() * 31 + p;
                  return List.of(
                          Worker.get(ws)
                              .gradients(
                                  s, mine, ws.microBatch(), ws.padId(), seedP, ws.recompute()))
                      .iterator();
                },
                true)
            .treeAggregate(null, GradPartial::merge, GradPartial::merge);
    bc.destroy();
    sparkSeconds += (System.nanoTime() - t0) / 1e9;
    computeSeconds += sum.computeSeconds();
    steps++;
    return new StepGradients(
        toArrays(adapters, sum), sum.nllSum(), sum.learned(), sum.input(), false);
  }

  private EpochShards shardsFor(int e) {
    if (epoch == null || epoch.epoch != e) {
      if (epoch != null) {
        epoch.close();
      }
      LOG.info("placing epoch {} on {} partition(s)", e, partitions);
      epoch = EpochShards.build(sc, indexed, order, e, globalBatch, partitions);
    }
    return epoch;
  }

  /**
   * Host gradient sums → arrays on the driver's device, by parameter name, copied into engine
   * memory (as parameters and optimizer state are, see {@code Ops.engineOwned}) so the optimizer
   * never works on storage whose alignment and lifetime a Java buffer decides.
   */
  private Map<String, NDArray> toArrays(AdapterSet adapters, GradPartial sum) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    List<TrainableParam> params = adapters.trainable();
    for (int i = 0; i < params.size(); i++) {
      Shape s = params.get(i).array().getShape();
      out.put(params.get(i).name(), Ops.engineOwned(manager.create(sum.grads()[i], s)));
    }
    return out;
  }

  /** Wall seconds of the gradient Spark jobs so far (compute included). */
  public double sparkSeconds() {
    return sparkSeconds;
  }

  /** Gradient Spark jobs run by this process (steps of a resumed run before it are not counted). */
  public int steps() {
    return steps;
  }

  /** Seconds of forward/backward on the slowest task of each step, summed over steps. */
  public double computeSeconds() {
    return computeSeconds;
  }

  @Override
  public int learnedTokens(int sampleIndex) {
    return learned[sampleIndex];
  }

  @Override
  public int size() {
    return learned.length;
  }

  @Override
  public void close() {
    if (epoch != null) {
      epoch.close();
    }
  }
}
