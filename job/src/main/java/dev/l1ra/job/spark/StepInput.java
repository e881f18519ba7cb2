package dev.l1ra.job.spark;

import dev.l1ra.model.train.Checkpoint;
import java.io.Serializable;
import java.util.List;

/**
 * Everything a training task needs beyond its data: the driver's adapter values for this step
 * (broadcast once per step), the loss normaliser and scale, and the step's seed. A task is a pure
 * function of (this, its shard, the step), so Spark may retry it.
 *
 * @param values adapter tensors in {@code AdapterSet.trainable()} order, fp32
 * @param normalizer learned tokens of the whole global batch
 * @param failOnce test hook: the first attempt of partition 0 throws at this step (−1: never)
 */
public record StepInput(
    int step,
    List<Checkpoint.AdapterEntry> entries,
    double dropout,
    List<float[]> values,
    double normalizer,
    double lossScale,
    long seed,
    int failOnce)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The driver's adapters as a step input (values copied to the host). */
  public static StepInput of(
      int step,
      dev.l1ra.model.adapter.AdapterSet adapters,
      double normalizer,
      double lossScale,
      long seed,
      int failOnce) {
    List<float[]> values = new java.util.ArrayList<>();
    for (dev.l1ra.model.adapter.TrainableParam p : adapters.trainable()) {
      values.add(p.array().toFloatArray());
    }
    return new StepInput(
        step,
        Checkpoint.entries(adapters),
        adapters.dropout(),
        values,
        normalizer,
        lossScale,
        seed,
        failOnce);
  }

  /** No adapters: score the base model. */
  public static StepInput baseModel() {
    return new StepInput(-1, null, 0, List.of(), 1, 1, 0, -1);
  }
}
