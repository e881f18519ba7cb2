package dev.l1ra.core.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.l1ra.core.schedule.LearningRateSchedule.Kind;
import org.junit.jupiter.api.Test;

/** Values from Hugging Face's schedule formulas (transformers/optimization.py). */
class LearningRateScheduleTest {
  @Test
  void cosineWithWarmup() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.COSINE, 1e-3, 10, 110, 0);
    assertEquals(0.0, s.lr(0));
    assertEquals(5e-4, s.lr(5), 1e-15);
    assertEquals(1e-3, s.lr(10), 1e-15);
    assertEquals(5e-4, s.lr(60), 1e-15, "half way through the decay");
    assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.lr(35), 1e-15);
    assertEquals(0.0, s.lr(110), 1e-15);
  }

  @Test
  void linearWithWarmupAndFloor() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.LINEAR, 2e-4, 4, 20, 0);
    assertEquals(1e-4, s.lr(2), 1e-15);
    assertEquals(2e-4 * 12 / 16.0, s.lr(8), 1e-15);
    LearningRateSchedule floor = new LearningRateSchedule(Kind.COSINE, 1.0, 0, 10, 0.1);
    assertEquals(0.1, floor.lr(10), 1e-12);
    assertEquals(0.1 + 0.9 * 0.5, floor.lr(5), 1e-12);
  }

  @Test
  void constantAfterWarmup() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.CONSTANT, 3e-4, 3, 50, 0);
    assertEquals(1e-4, s.lr(1), 1e-15);
    assertEquals(3e-4, s.lr(40));
  }
}
