package dev.l1ra.core.config;

import java.util.List;

/**
 * The optimisation loop.
 *
 * @param steps optimizer steps (or derived from {@code epochs} when steps is absent)
 * @param globalBatch samples per optimizer step, over all workers
 * @param microBatch samples per forward/backward pass on one worker; 0: the largest that fits
 *     {@code memoryGib} by the memory estimate
 * @param warmup warm-up as a ratio of steps (< 1) or a step count (>= 1)
 * @param schedule cosine, linear or constant (after warm-up)
 * @param maxGradNorm global-norm clipping threshold (0 disables)
 * @param maxBadSteps consecutive NaN/Inf steps tolerated before the run stops (after saving)
 * @param evalEvery steps between evaluations (0: only at the end)
 * @param checkpointEvery steps between checkpoints (0: only at the end)
 * @param lossScale fp16 initial dynamic loss scale
 * @param threads intra-op threads per worker (0: the engine's default)
 * @param recompute layer-wise activation recomputation: keep only each layer's input in the
 *     forward, recompute during backward (less activation memory, one more forward)
 * @param memoryGib device memory of one worker in GiB; when set, the memory estimate is checked
 *     against it before training and a run that would not fit stops with settings that would
 */
public record TrainSection(
    Integer steps,
    Double epochs,
    Integer globalBatch,
    Integer microBatch,
    Double lr,
    String schedule,
    Double warmup,
    Double minLrRatio,
    Double weightDecay,
    Double adamBeta1,
    Double adamBeta2,
    Double adamEps,
    Double maxGradNorm,
    Integer maxBadSteps,
    Integer logEvery,
    Integer evalEvery,
    Integer evalBatches,
    Integer checkpointEvery,
    Integer keepCheckpoints,
    Double lossScale,
    Integer threads,
    Boolean recompute,
    Double memoryGib) {
  public TrainSection {
    globalBatch = globalBatch == null ? 8 : globalBatch;
    microBatch = microBatch == null ? Math.min(4, globalBatch) : microBatch;
    lr = lr == null ? 2e-4 : lr;
    schedule = schedule == null ? "cosine" : schedule;
    warmup = warmup == null ? 0.0 : warmup;
    minLrRatio = minLrRatio == null ? 0.0 : minLrRatio;
    weightDecay = weightDecay == null ? 0.0 : weightDecay;
    adamBeta1 = adamBeta1 == null ? 0.9 : adamBeta1;
    adamBeta2 = adamBeta2 == null ? 0.999 : adamBeta2;
    adamEps = adamEps == null ? 1e-8 : adamEps;
    maxGradNorm = maxGradNorm == null ? 1.0 : maxGradNorm;
    maxBadSteps = maxBadSteps == null ? 5 : maxBadSteps;
    logEvery = logEvery == null ? 10 : logEvery;
    evalEvery = evalEvery == null ? 0 : evalEvery;
    evalBatches = evalBatches == null ? 0 : evalBatches;
    checkpointEvery = checkpointEvery == null ? 0 : checkpointEvery;
    keepCheckpoints = keepCheckpoints == null ? 2 : keepCheckpoints;
    lossScale = lossScale == null ? 65536.0 : lossScale;
    threads = threads == null ? 0 : threads;
    recompute = recompute != null && recompute;
    ConfigException.check(
        steps != null || epochs != null, "train.steps", steps, "set train.steps or train.epochs");
    ConfigException.check(steps == null || steps > 0, "train.steps", steps, "must be > 0");
    ConfigException.check(epochs == null || epochs > 0, "train.epochs", epochs, "must be > 0");
    ConfigException.check(globalBatch > 0, "train.global_batch", globalBatch, "must be > 0");
    ConfigException.check(
        microBatch >= 0 && microBatch <= globalBatch,
        "train.micro_batch",
        microBatch,
        "must be in [1, global_batch=" + globalBatch + "], or 0 for the largest that fits");
    ConfigException.check(
        microBatch > 0 || memoryGib != null,
        "train.micro_batch",
        microBatch,
        "0 (the largest micro-batch that fits) needs train.memory_gib, the device's memory");
    ConfigException.check(lr > 0, "train.lr", lr, "must be > 0");
    ConfigException.check(
        List.of("cosine", "linear", "constant").contains(schedule),
        "train.schedule",
        schedule,
        "use cosine, linear or constant");
    ConfigException.check(
        warmup >= 0, "train.warmup", warmup, "must be >= 0 (a ratio < 1 or a step count)");
    ConfigException.check(
        minLrRatio >= 0 && minLrRatio <= 1, "train.min_lr_ratio", minLrRatio, "must be in [0, 1]");
    ConfigException.check(weightDecay >= 0, "train.weight_decay", weightDecay, "must be >= 0");
    ConfigException.check(
        maxGradNorm >= 0, "train.max_grad_norm", maxGradNorm, "must be >= 0 (0 disables clipping)");
    ConfigException.check(maxBadSteps >= 1, "train.max_bad_steps", maxBadSteps, "must be >= 1");
    ConfigException.check(logEvery >= 1, "train.log_every", logEvery, "must be >= 1");
    ConfigException.check(
        keepCheckpoints >= 1, "train.keep_checkpoints", keepCheckpoints, "must be >= 1");
    ConfigException.check(lossScale >= 1, "train.loss_scale", lossScale, "must be >= 1");
    ConfigException.check(
        memoryGib == null || memoryGib > 0,
        "train.memory_gib",
        memoryGib,
        "must be > 0 (the GPU's memory in GiB), or leave it out to skip the check");
  }

  /** Warm-up in steps for a run of {@code total} steps. */
  public int warmupSteps(int total) {
    return warmup < 1 ? (int) Math.ceil(warmup * total) : (int) Math.round(warmup);
  }
}
