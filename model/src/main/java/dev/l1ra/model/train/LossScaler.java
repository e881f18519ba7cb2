package dev.l1ra.model.train;

import java.io.Serializable;

/**
 * Dynamic loss scaling for fp16 (as torch.cuda.amp.GradScaler): the loss is multiplied by the scale
 * before backward; a step whose gradients overflow is skipped and the scale halved; after {@code
 * growthInterval} good steps in a row the scale doubles. Immutable: each step returns the next
 * state (it is part of the checkpoint).
 */
public record LossScaler(double scale, int goodSteps, int growthInterval, boolean enabled)
    implements Serializable {
  public static final double MIN_SCALE = 1.0;

  public static LossScaler disabled() {
    return new LossScaler(1.0, 0, 2000, false);
  }

  public static LossScaler dynamic(double initial) {
    return new LossScaler(initial, 0, 2000, true);
  }

  /** The state after a step whose gradients were finite ({@code ok}) or overflowed. */
  public LossScaler next(boolean ok) {
    if (!enabled) {
      return this;
    }
    if (!ok) {
      return new LossScaler(Math.max(MIN_SCALE, scale / 2), 0, growthInterval, true);
    }
    int good = goodSteps + 1;
    if (good >= growthInterval) {
      return new LossScaler(scale * 2, 0, growthInterval, true);
    }
    return new LossScaler(scale, good, growthInterval, true);
  }
}
