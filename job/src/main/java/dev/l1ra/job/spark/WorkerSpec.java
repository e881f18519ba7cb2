package dev.l1ra.job.spark;

import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.core.config.Precision;
import java.io.Serializable;

/**
 * What an executor needs to build its trainer: the base model and how to run it. Also the cache key
 * of the per-JVM model.
 *
 * @param modelPath Hugging Face folder, readable from every executor (local path, or a path the
 *     cluster mounts on each node, e.g. /dbfs/...)
 * @param device device preference when the task has no GPU assigned: auto, cpu, gpu:N
 * @param recompute layer-wise activation recomputation (less memory, one more forward)
 */
public record WorkerSpec(
    String modelPath,
    Precision precision,
    String device,
    AttentionKind attention,
    int padId,
    int microBatch,
    int threads,
    boolean recompute)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The part of the spec that decides which cached model a task may reuse. */
  String modelKey(String resolvedDevice) {
    return modelPath + "|" + precision + "|" + resolvedDevice + "|" + attention;
  }
}
