package dev.l1ra.job.spark;

import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.job.spark.transport.Payload;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.model.adapter.AdapterEntry;
import dev.l1ra.model.train.RoundSource;
import java.io.Serializable;
import java.util.List;

/**
 * Everything a round's task needs beyond its data, broadcast once per round: the plan (first step,
 * per-step learning rates and seeds, hyper-parameters, loss scale), the adapters' structure, the
 * state the round starts from and how to send the result back. A task is a pure function of (this,
 * its shard, its partition), so Spark may retry it.
 *
 * @param state values, first and second moments as one fp32 payload ({@link RoundState})
 * @param ages per-rank step counts, one array per trainable tensor
 * @param result how the task encodes its state: fp32 states, or fp16/bf16 changes from {@code
 *     state}
 * @param chunks payloads per task (the reduce-scatter's chunk count)
 */
record RoundInput(
    RoundSource.Plan plan,
    List<AdapterEntry> entries,
    double dropout,
    Payload state,
    List<float[]> ages,
    AdamSettings adam,
    PayloadDtype result,
    int chunks)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Scalars per step in a task's result: NLL sum, learned and input tokens, |g|, skipped. */
  static final int STEP_SCALARS = 5;
}
