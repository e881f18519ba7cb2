package dev.l1ra.core.schedule;

import java.util.Locale;

/**
 * Learning-rate schedules as pure functions of the optimizer step, matching Hugging Face's {@code
 * get_cosine_schedule_with_warmup} / {@code get_linear_schedule_with_warmup} / {@code
 * get_constant_schedule_with_warmup}: linear warm-up from 0 over {@code warmup} steps, then the
 * decay; an optional floor as a ratio of the peak ({@code cosine_with_min_lr}).
 *
 * @param kind cosine, linear or constant
 * @param peak learning rate after warm-up
 * @param warmup warm-up steps
 * @param total total optimizer steps
 * @param minRatio floor of the decay, as a fraction of the peak (0 for none)
 */
public record LearningRateSchedule(Kind kind, double peak, int warmup, int total, double minRatio) {

  /** The decay after warm-up ({@code train.schedule}). */
  public enum Kind {
    /** Half a cosine from the peak to the floor. */
    COSINE,
    /** A straight line from the peak to the floor. */
    LINEAR,
    /** The peak throughout. */
    CONSTANT;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public LearningRateSchedule {
    if (total <= 0 || warmup < 0) {
      throw new IllegalArgumentException(
          "schedule needs total > 0 and warmup >= 0, got " + total + ", " + warmup);
    }
  }

  /** Learning rate at a 0-based optimizer step. */
  public double lr(int step) {
    return peak * multiplier(step);
  }

  /** The multiplier of the peak at a 0-based step. */
  public double multiplier(int step) {
    if (step < warmup) {
      return (double) step / Math.max(1, warmup);
    }
    double progress = (double) (step - warmup) / Math.max(1, total - warmup);
    double decay =
        switch (kind) {
          case COSINE -> Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
          case LINEAR -> Math.max(0, (double) (total - step) / Math.max(1, total - warmup));
          case CONSTANT -> 1.0;
        };
    return minRatio + (1 - minRatio) * decay;
  }
}
