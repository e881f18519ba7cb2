package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.schedule.LearningRateSchedule;

/**
 * The optimisation loop. Three keys are optional, with 0 standing for "not set" (and left out of
 * the written config): {@code steps}, {@code epochs}, {@code memory_gib}; set explicitly, each must
 * be > 0.
 *
 * @param steps optimizer steps; 0: derived from {@code epochs}
 * @param epochs passes over the data when {@code steps} is 0; 0 when steps are given
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
 * @param memoryGib device memory of one worker in GiB; when set (> 0), the memory estimate is
 *     checked against it before training and a run that would not fit stops with settings that
 *     would; 0: no check
 */
public record TrainSection(
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) int steps,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) double epochs,
    int globalBatch,
    int microBatch,
    double lr,
    LearningRateSchedule.Kind schedule,
    double warmup,
    double minLrRatio,
    double weightDecay,
    double adamBeta1,
    double adamBeta2,
    double adamEps,
    double maxGradNorm,
    int maxBadSteps,
    int logEvery,
    int evalEvery,
    int evalBatches,
    int checkpointEvery,
    int keepCheckpoints,
    double lossScale,
    int threads,
    boolean recompute,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) double memoryGib) {
  private static final String MEMORY_RULE =
      "must be > 0 (the GPU's memory in GiB), or leave it out to skip the check";

  public TrainSection {
    ConfigException.check(
        steps > 0 || epochs > 0, "train.steps", steps, "set train.steps or train.epochs");
    ConfigException.check(steps >= 0, "train.steps", steps, "must be > 0");
    ConfigException.check(epochs >= 0, "train.epochs", epochs, "must be > 0");
    ConfigException.check(globalBatch > 0, "train.global_batch", globalBatch, "must be > 0");
    ConfigException.check(
        microBatch >= 0 && microBatch <= globalBatch,
        "train.micro_batch",
        microBatch,
        "must be in [1, global_batch=" + globalBatch + "], or 0 for the largest that fits");
    ConfigException.check(
        microBatch > 0 || memoryGib > 0,
        "train.micro_batch",
        microBatch,
        "0 (the largest micro-batch that fits) needs train.memory_gib, the device's memory");
    ConfigException.check(lr > 0, "train.lr", lr, "must be > 0");
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
    ConfigException.check(memoryGib >= 0, "train.memory_gib", memoryGib, MEMORY_RULE);
  }

  /** Warm-up in steps for a run of {@code total} steps. */
  public int warmupSteps(int total) {
    return warmup < 1 ? (int) Math.ceil(warmup * total) : (int) Math.round(warmup);
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      Integer steps,
      Double epochs,
      Integer globalBatch,
      Integer microBatch,
      Double lr,
      LearningRateSchedule.Kind schedule,
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
      Double memoryGib) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static TrainSection of(Keys k) {
    int globalBatch = requireNonNullElse(k.globalBatch(), 8);
    return new TrainSection(
        ConfigException.zeroIfAbsent("train.steps", k.steps(), "must be > 0"),
        ConfigException.zeroIfAbsent("train.epochs", k.epochs(), "must be > 0"),
        globalBatch,
        requireNonNullElse(k.microBatch(), Math.min(4, globalBatch)),
        requireNonNullElse(k.lr(), 2e-4),
        requireNonNullElse(k.schedule(), LearningRateSchedule.Kind.COSINE),
        requireNonNullElse(k.warmup(), 0.0),
        requireNonNullElse(k.minLrRatio(), 0.0),
        requireNonNullElse(k.weightDecay(), 0.0),
        requireNonNullElse(k.adamBeta1(), 0.9),
        requireNonNullElse(k.adamBeta2(), 0.999),
        requireNonNullElse(k.adamEps(), 1e-8),
        requireNonNullElse(k.maxGradNorm(), 1.0),
        requireNonNullElse(k.maxBadSteps(), 5),
        requireNonNullElse(k.logEvery(), 10),
        requireNonNullElse(k.evalEvery(), 0),
        requireNonNullElse(k.evalBatches(), 0),
        requireNonNullElse(k.checkpointEvery(), 0),
        requireNonNullElse(k.keepCheckpoints(), 2),
        requireNonNullElse(k.lossScale(), 65536.0),
        requireNonNullElse(k.threads(), 0),
        requireNonNullElse(k.recompute(), false),
        ConfigException.zeroIfAbsent("train.memory_gib", k.memoryGib(), MEMORY_RULE));
  }

  /** Optimizer steps of a run over {@code samples} training samples (steps, or from epochs). */
  public int totalSteps(int samples) {
    if (steps > 0) {
      return steps;
    }
    return (int) Math.max(1, Math.floor(epochs * (samples / globalBatch)));
  }

  /** The A/B learning rate over a run of {@code total} steps (warm-up and decay included). */
  public LearningRateSchedule schedule(int total) {
    return new LearningRateSchedule(schedule, lr, warmupSteps(total), total, minLrRatio);
  }

  /** AdamW's constants. */
  public AdamSettings adam() {
    return new AdamSettings(adamBeta1, adamBeta2, adamEps);
  }
}
