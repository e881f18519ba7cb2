package dev.l1ra.job.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.data.Sample;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.job.spark.transport.ReducePlan;
import dev.l1ra.job.spark.transport.Reduced;
import dev.l1ra.job.spark.transport.Reduction;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.train.GradientSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Synchronous data parallelism on Spark: each optimizer step is one Spark job — broadcast the
 * driver's adapter values (one fp32 payload), let every partition's task compute the token-weighted
 * gradient sums of its B/P samples with the executor's cached model, and sum the tasks' gradient
 * payloads with a reduce-scatter in a fixed order ({@link Reduction}), so the driver receives one
 * copy, not one per task. The driver applies the optimizer.
 */
public final class SparkGradients implements GradientSource {
  private final ShardedData data;
  private final WorkerSpec spec;
  private final NDManager manager;
  private final PayloadDtype payload;
  private final ReducePlan reduce;

  /**
   * @param samples training samples in their global order (sorted by id)
   * @param payload precision of the gradients tasks send back
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
      PayloadDtype payload,
      NDManager manager) {
    this.data = new ShardedData(sc, samples, learnedTokens, seed, globalBatch, partitions);
    this.spec = spec;
    this.manager = manager;
    this.payload = payload;
    this.reduce = ReducePlan.forPartitions(partitions);
  }

  @Override
  public StepGradients compute(
      int step, int[] sampleIndices, AdapterSet adapters, double lossScale, long seed) {
    long t0 = data.startJob();
    double normalizer = 0;
    for (int i : sampleIndices) {
      normalizer += data.learnedTokens(i);
    }
    int chunks = reduce.strategy() == ReducePlan.Strategy.SCATTER ? reduce.chunks() : 1;
    StepInput in =
        StepInput.of(step, adapters, Math.max(1, normalizer), lossScale, seed, payload, chunks);
    Broadcast<StepInput> bc = data.sc.broadcast(in);
    Reduced sum = Reduction.sum(tasks(bc, step), reduce, null);
    bc.destroy();
    data.endJob(t0, 1);
    return new StepGradients(
        toArrays(adapters, sum), sum.scalar(0), (long) sum.scalar(1), (long) sum.scalar(2), false);
  }

  /** One task per partition: its share of the step's samples, gradients as payload chunks. */
  private JavaRDD<Payload> tasks(Broadcast<StepInput> bc, int step) {
    EpochShards shards = data.shardsFor(step);
    int stepInEpoch = step % data.order.stepsPerEpoch();
    WorkerSpec ws = spec;
    int b = data.globalBatch;
    ExecutorSeconds compute = data.compute;
    return shards.shards.mapPartitionsWithIndex(
        (p, it) -> {
          StepInput s = bc.value();
          TaskFaults.maybeFail(s.step(), p);
          List<Sample> mine = it.next().forStep(stepInEpoch, b);
          long c0 = System.nanoTime();
          List<Payload> out = Worker.get(ws).gradients(s, mine, s.seed() * 31 + p, ws);
          compute.addHere((System.nanoTime() - c0) / 1e9);
          return out.iterator();
        },
        true);
  }

  /**
   * The summed gradients as arrays on the driver's device, by parameter name, copied into engine
   * memory (as parameters and optimizer state are, see {@code Ops.engineOwned}) so the optimizer
   * never works on storage whose alignment and lifetime a Java buffer decides.
   */
  private Map<String, NDArray> toArrays(AdapterSet adapters, Reduced sum) {
    List<TrainableParam> params = adapters.trainable();
    int[] lengths = new int[params.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = Math.toIntExact(params.get(i).array().size());
    }
    List<float[]> grads = sum.split(lengths);
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (int i = 0; i < params.size(); i++) {
      Shape s = params.get(i).array().getShape();
      out.put(params.get(i).name(), Ops.engineOwned(manager.create(grads.get(i), s)));
    }
    return out;
  }

  /** Wall seconds of the gradient Spark jobs so far (compute included). */
  public double sparkSeconds() {
    return data.sparkSeconds();
  }

  /** Gradient Spark jobs run by this process (steps of a resumed run before it are not counted). */
  public int steps() {
    return data.steps();
  }

  /** Seconds of compute on the busiest executor of each step, summed over steps. */
  public double computeSeconds() {
    return data.computeSeconds();
  }

  @Override
  public int learnedTokens(int sampleIndex) {
    return data.learnedTokens(sampleIndex);
  }

  @Override
  public int size() {
    return data.size();
  }

  @Override
  public void close() {
    data.close();
  }
}
