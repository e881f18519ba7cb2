package dev.l1ra.core.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.l1ra.core.schedule.LearningRateSchedule.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * LearningRateSchedule against Hugging Face transformers' lambdas (optimization.py), written out
 * again here line by line: {@code _get_cosine_schedule_with_warmup_lr_lambda} (num_cycles 0.5),
 * {@code _get_linear_schedule_with_warmup_lr_lambda}, {@code
 * _get_constant_schedule_with_warmup_lr_lambda} and {@code
 * _get_cosine_with_min_lr_schedule_with_warmup_lr_lambda}; plus hand-computed values.
 */
class LearningRateScheduleHfTest {

  static double hfCosine(int step, int warmup, int total) {
    if (step < warmup) {
      return (double) step / (double) Math.max(1, warmup);
    }
    double progress = (double) (step - warmup) / (double) Math.max(1, total - warmup);
    return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
  }

  static double hfLinear(int step, int warmup, int total) {
    if (step < warmup) {
      return (double) step / (double) Math.max(1, warmup);
    }
    return Math.max(0.0, (double) (total - step) / (double) Math.max(1, total - warmup));
  }

  static double hfConstant(int step, int warmup) {
    return step < warmup ? (double) step / (double) Math.max(1.0, warmup) : 1.0;
  }

  static double hfCosineMinLr(int step, int warmup, int total, double minLrRate) {
    if (step < warmup) {
      return (double) step / (double) Math.max(1, warmup);
    }
    double progress = (double) (step - warmup) / (double) Math.max(1, total - warmup);
    double factor = 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress));
    factor = factor * (1 - minLrRate) + minLrRate;
    return Math.max(0, factor);
  }

  @ParameterizedTest
  @CsvSource({"10, 110", "0, 50", "1, 7", "7, 7", "3, 1000", "100, 4287"})
  void everyStepMatchesTheHuggingFaceLambdas(int warmup, int total) {
    LearningRateSchedule cos = new LearningRateSchedule(Kind.COSINE, 1.0, warmup, total, 0);
    LearningRateSchedule lin = new LearningRateSchedule(Kind.LINEAR, 1.0, warmup, total, 0);
    LearningRateSchedule con = new LearningRateSchedule(Kind.CONSTANT, 1.0, warmup, total, 0);
    LearningRateSchedule min = new LearningRateSchedule(Kind.COSINE, 1.0, warmup, total, 0.1);
    for (int s = 0; s <= total + 5; s++) {
      assertEquals(hfCosine(s, warmup, total), cos.multiplier(s), "cosine step " + s);
      assertEquals(hfLinear(s, warmup, total), lin.multiplier(s), "linear step " + s);
      assertEquals(hfConstant(s, warmup), con.multiplier(s), "constant step " + s);
      assertEquals(hfCosineMinLr(s, warmup, total, 0.1), min.multiplier(s), 1e-15, "min " + s);
    }
  }

  @Test
  void handComputedCosineValues() {
    // W = 10, T = 110: progress = (s − 10)/100
    LearningRateSchedule s = new LearningRateSchedule(Kind.COSINE, 2e-4, 10, 110, 0);
    assertEquals(0.0, s.lr(0));
    assertEquals(2e-4 * 0.3, s.lr(3), 1e-20, "warm-up 3/10");
    assertEquals(2e-4, s.lr(10), 1e-20, "peak at the end of warm-up");
    assertEquals(0.8535533905932737, s.multiplier(35), 1e-15, "0.5·(1 + cos π/4)");
    assertEquals(0.5, s.multiplier(60), 1e-15, "0.5·(1 + cos π/2)");
    assertEquals(0.14644660940672624, s.multiplier(85), 1e-15, "0.5·(1 + cos 3π/4)");
    assertEquals(0.0, s.multiplier(110), 1e-15);
    // past the end HF's cosine (num_cycles 0.5) rises again: 0.5·(1 + cos 1.1π)
    assertEquals(0.024471741852423234, s.multiplier(120), 1e-15);
  }

  @Test
  void handComputedLinearAndFloorValues() {
    LearningRateSchedule lin = new LearningRateSchedule(Kind.LINEAR, 1.0, 4, 20, 0);
    assertEquals(0.75, lin.multiplier(3), "warm-up 3/4");
    assertEquals(1.0, lin.multiplier(4));
    assertEquals(0.75, lin.multiplier(8), "(20 − 8)/16");
    assertEquals(0.0, lin.multiplier(20));
    assertEquals(0.0, lin.multiplier(30), "clipped at 0 past the end");
    LearningRateSchedule floor = new LearningRateSchedule(Kind.COSINE, 1.0, 4, 20, 0.2);
    assertEquals(0.5, floor.multiplier(2), "warm-up is not floored");
    assertEquals(0.6, floor.multiplier(12), 1e-15, "0.2 + 0.8·0.5");
    assertEquals(0.2, floor.multiplier(20), 1e-15);
  }

  @Test
  void noWarmupStartsAtThePeak() {
    assertEquals(1.0, new LearningRateSchedule(Kind.COSINE, 1.0, 0, 10, 0).multiplier(0));
    assertEquals(1.0, new LearningRateSchedule(Kind.LINEAR, 1.0, 0, 10, 0).multiplier(0));
  }
}
