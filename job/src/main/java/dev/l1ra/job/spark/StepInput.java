package dev.l1ra.job.spark;

import ai.djl.ndarray.NDManager;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadCodec;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.model.adapter.AdapterEntry;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.AdapterSnapshot;
import dev.l1ra.model.adapter.TrainableParam;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a training or scoring task needs beyond its data: the driver's adapters for this step
 * (structure, and values as one fp32 payload; broadcast once per step), the loss normaliser and
 * scale, the step's seed, and how to send gradients back. A task is a pure function of (this, its
 * shard, the step), so Spark may retry it.
 *
 * @param entries the adapters' structure, or null to score the base model
 * @param normalizer learned tokens of the whole global batch
 * @param result precision of the gradients a task returns
 * @param chunks payloads per task (the reduce-scatter's chunk count)
 */
public record StepInput(
    int step,
    List<AdapterEntry> entries,
    double dropout,
    Payload values,
    double normalizer,
    double lossScale,
    long seed,
    PayloadDtype result,
    int chunks)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Scalars in a task's gradient payload: NLL sum, learned and input tokens. */
  static final int SCALARS = 3;

  /** The driver's adapters as a step input (values copied to the host). */
  public static StepInput of(
      int step,
      AdapterSet adapters,
      double normalizer,
      double lossScale,
      long seed,
      PayloadDtype result,
      int chunks) {
    List<float[]> values = new ArrayList<>();
    for (TrainableParam p : adapters.trainable()) {
      values.add(p.array().toFloatArray());
    }
    return new StepInput(
        step,
        adapters.entries(),
        adapters.dropout(),
        PayloadCodec.encode(values, PayloadDtype.FP32, 1),
        normalizer,
        lossScale,
        seed,
        result,
        chunks);
  }

  /** No adapters: score the base model. */
  public static StepInput baseModel() {
    return new StepInput(-1, null, 0, null, 1, 1, 0, PayloadDtype.FP32, 1);
  }

  /** The adapters in engine memory on {@code manager}'s device (caller closes), or null. */
  AdapterSet adapters(NDManager manager) {
    if (entries == null) {
      return null;
    }
    return new AdapterSnapshot(entries, dropout, PayloadCodec.decodeTensors(values)).build(manager);
  }
}
