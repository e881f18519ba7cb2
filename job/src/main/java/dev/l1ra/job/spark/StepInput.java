package dev.l1ra.job.spark;

import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.AdapterSnapshot;
import java.io.Serializable;

/**
 * Everything a training task needs beyond its data: the driver's adapters for this step (broadcast
 * once per step), the loss normaliser and scale, and the step's seed. A task is a pure function of
 * (this, its shard, the step), so Spark may retry it.
 *
 * @param adapters the adapters' values, or null to score the base model
 * @param normalizer learned tokens of the whole global batch
 */
public record StepInput(
    int step, AdapterSnapshot adapters, double normalizer, double lossScale, long seed)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The driver's adapters as a step input (values copied to the host). */
  public static StepInput of(
      int step, AdapterSet adapters, double normalizer, double lossScale, long seed) {
    return new StepInput(step, AdapterSnapshot.of(adapters), normalizer, lossScale, seed);
  }

  /** No adapters: score the base model. */
  public static StepInput baseModel() {
    return new StepInput(-1, null, 1, 1, 0);
  }
}
