package dev.l1ra.job.spark;

import ai.djl.ndarray.NDArray;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadCodec;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.job.spark.transport.ReducePlan;
import dev.l1ra.job.spark.transport.Reduced;
import dev.l1ra.job.spark.transport.Reduction;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.train.AdamW;
import dev.l1ra.model.train.RoundSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Rounds of local steps on Spark (local SGD; DiLoCo's outer loop): one Spark job per round of up to
 * H optimizer steps. The driver broadcasts the state (adapters, AdamW moments and step counts);
 * every partition's task runs the round's steps on its share of each global batch with its own
 * AdamW and returns its final state (fp32) or its change (fp16/bf16), weighted by the tokens it
 * learned from; a reduce-scatter sums them ({@link Reduction}, fixed order) and the driver takes
 * the weighted mean, optionally through {@link OuterUpdate}. Rounds end at multiples of H and at
 * epoch ends, so where they fall depends on the step alone.
 */
public final class SparkRounds implements RoundSource {
  private final ShardedData data;
  private final WorkerSpec spec;
  private final int roundSteps;
  private final AdamSettings adam;
  private final PayloadDtype payload;
  private final ReducePlan reduce;
  private final OuterUpdate outer;

  /**
   * @param roundSteps H, optimizer steps per round
   * @param payload how tasks send their result: fp32 states, fp16/bf16 changes
   */
  public SparkRounds(
      JavaSparkContext sc,
      JavaPairRDD<Long, Sample> samples,
      int[] learnedTokens,
      WorkerSpec spec,
      long seed,
      int globalBatch,
      int partitions,
      int roundSteps,
      AdamSettings adam,
      PayloadDtype payload,
      OuterUpdate outer) {
    this.data = new ShardedData(sc, samples, learnedTokens, seed, globalBatch, partitions);
    this.spec = spec;
    this.roundSteps = roundSteps;
    this.adam = adam;
    this.payload = payload;
    this.reduce = ReducePlan.forPartitions(partitions);
    this.outer = outer;
  }

  @Override
  public int roundEnd(int step, int totalSteps) {
    int next = (step / roundSteps + 1) * roundSteps;
    return Math.min(totalSteps, Math.min(next, data.epochEnd(step)));
  }

  @Override
  public List<StepOutcome> run(Plan plan, AdapterSet adapters, AdamW driverAdam) {
    long t0 = data.startJob();
    List<float[]> start = RoundState.flatten(adapters, driverAdam);
    Payload base = PayloadCodec.encode(start, PayloadDtype.FP32, 1);
    RoundInput in =
        new RoundInput(
            plan,
            adapters.entries(),
            adapters.dropout(),
            base,
            RoundState.ages(adapters, driverAdam),
            adam,
            payload,
            reduce.strategy() == ReducePlan.Strategy.SCATTER ? reduce.chunks() : 1);
    Broadcast<RoundInput> bc = data.sc.broadcast(in);
    Reduced sum = Reduction.sum(tasks(bc, plan), reduce, null);
    bc.destroy();
    List<float[]> mean = sum.split(lengths(start));
    List<float[]> next = average(start, mean, (float) (1 / sum.weight()));
    outer.apply(adapters, start, next);
    List<StepOutcome> out = outcomes(sum.scalars(), plan.steps(), data.partitions);
    RoundState.replace(next, adapters, driverAdam, stepped(out, data.partitions));
    data.endJob(t0, plan.steps());
    return out;
  }

  /** One task per partition runs the round on its shard; results as payload chunks. */
  private JavaRDD<Payload> tasks(Broadcast<RoundInput> bc, Plan plan) {
    EpochShards shards = data.shardsFor(plan.firstStep());
    int first = plan.firstStep() % data.order.stepsPerEpoch();
    int n = plan.steps();
    int b = data.globalBatch;
    WorkerSpec ws = spec;
    ExecutorSeconds compute = data.compute;
    return shards.shards.mapPartitionsWithIndex(
        (p, it) -> {
          RoundInput r = bc.value();
          TaskFaults.maybeFail(r.plan().firstStep(), p);
          EpochShards.Shard shard = it.next();
          List<List<Sample>> steps = new ArrayList<>(n);
          for (int h = 0; h < n; h++) {
            steps.add(shard.forStep(first + h, b));
          }
          long c0 = System.nanoTime();
          List<Payload> result = Worker.get(ws).round(r, steps, p, ws);
          compute.addHere((System.nanoTime() - c0) / 1e9);
          return result.iterator();
        },
        true);
  }

  /**
   * The weighted mean of the tasks' states: {@code mean} holds Σ w·x (fp32 states) or Σ w·Δx
   * (fp16/bf16 changes); scaled by 1/Σ w in place and, for changes, added to the start.
   */
  private List<float[]> average(List<float[]> start, List<float[]> mean, float scale) {
    boolean delta = payload != PayloadDtype.FP32;
    for (int t = 0; t < mean.size(); t++) {
      float[] x = mean.get(t);
      float[] s = start.get(t);
      for (int j = 0; j < x.length; j++) {
        x[j] = delta ? s[j] + x[j] * scale : x[j] * scale;
      }
    }
    return mean;
  }

  /** Per-step outcomes from the summed scalars (|g| averaged over the partitions). */
  static List<StepOutcome> outcomes(double[] s, int steps, int partitions) {
    List<StepOutcome> out = new ArrayList<>(steps);
    for (int h = 0; h < steps; h++) {
      int k = RoundInput.STEP_SCALARS * h;
      out.add(
          new StepOutcome(
              s[k], (long) s[k + 1], (long) s[k + 2], s[k + 3] / partitions, (int) s[k + 4]));
    }
    return out;
  }

  /** Steps of the round that at least one worker applied (they advance the step counts). */
  private static int stepped(List<StepOutcome> out, int partitions) {
    return (int) out.stream().filter(o -> o.skippedWorkers() < partitions).count();
  }

  private static int[] lengths(List<float[]> tensors) {
    return tensors.stream().mapToInt(t -> t.length).toArray();
  }

  @Override
  public void ranksChanged() {
    outer.reset();
  }

  @Override
  public int size() {
    return data.size();
  }

  @Override
  public Map<String, NDArray> tensors() {
    return outer.tensors();
  }

  @Override
  public void restoreTensors(Map<String, NDArray> tensors) {
    outer.restore(tensors);
  }

  /** Wall seconds of the round Spark jobs so far (compute included). */
  public double sparkSeconds() {
    return data.sparkSeconds();
  }

  /** Seconds of compute on the busiest executor of each round, summed. */
  public double computeSeconds() {
    return data.computeSeconds();
  }

  /** Optimizer steps run by the rounds of this process. */
  public int steps() {
    return data.steps();
  }

  @Override
  public void close() {
    outer.close();
    data.close();
  }
}
