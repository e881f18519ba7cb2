package dev.l1ra.job.report;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.memory.MemoryEstimate;
import dev.l1ra.model.train.Evaluator;
import dev.l1ra.model.train.Trainer;
import java.util.Map;

/**
 * What a finished training run produced: everything {@code report.json}, the summary line and the
 * same-budget baseline read.
 *
 * @param baseEval the base model's eval, or null without eval data
 * @param initialLayout the ranks the run started with
 * @param finalLayout the ranks in use at the end (AdaLoRA: unmasked triplets)
 * @param seconds wall time of the whole run (data, training, evals, export)
 * @param split where a step's time went (the Spark gradient jobs, their compute)
 * @param memory the analytic peak memory estimate per worker
 * @param microBatch the micro-batch run (train.micro_batch 0 resolves to what fits)
 * @param provenance versions, commit, device and data fingerprint of the run (report.json's
 *     provenance, the adapter's provenance.json)
 */
public record RunResult(
    RunConfig config,
    ModelConfig model,
    RunPaths paths,
    Trainer.Summary summary,
    Evaluator.Result baseEval,
    AdapterLayout initialLayout,
    AdapterLayout finalLayout,
    int allocationEvents,
    int ranksMoved,
    double seconds,
    StepSplit split,
    MemoryEstimate memory,
    int microBatch,
    Map<String, String> provenance) {

  /**
   * The Spark side of the steps this process ran.
   *
   * @param steps gradient jobs run (steps before a resume not counted)
   * @param sparkSeconds wall seconds of those jobs, compute included
   * @param computeSeconds forward/backward seconds on the critical path of each job, summed
   */
  public record StepSplit(int steps, double sparkSeconds, double computeSeconds) {}
}
