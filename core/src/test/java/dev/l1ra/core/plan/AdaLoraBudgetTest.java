package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AdaLoraBudgetTest {
  // 10 adapters, init 12 -> target 8: budgets 120 -> 80; T = 100, tinit 10, tfinal 20, deltaT 5
  static final AdaLoraBudget B = new AdaLoraBudget(120, 80, 10, 20, 5, 100);

  @Test
  void cubicScheduleAsPeft() {
    assertEquals(new AdaLoraBudget.Step(120, false), B.at(10), "warm-up at full budget");
    // step 45: mul = 1 - 35/70 = 0.5 -> int(40 * 0.125 + 80) = 85
    assertEquals(new AdaLoraBudget.Step(85, true), B.at(45));
    // step 46: mul = 1 - 36/70 -> int(40 * 0.4857^3 + 80) = int(84.58) = 84, no mask (46 % 5 != 0)
    assertEquals(new AdaLoraBudget.Step(84, false), B.at(46));
    // step 11: mul = 1 - 1/70 -> int(40 * (69/70)^3 + 80) = int(118.30..) = 118
    assertEquals(118, B.at(11).budget());
    assertEquals(
        new AdaLoraBudget.Step(80, true), B.at(81), "final phase: target, masked every step");
    assertEquals(80, B.at(80).budget(), "end of the cubic phase reaches the target");
  }

  @Test
  void invalidSchedulesAreNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new AdaLoraBudget(10, 5, 50, 60, 1, 100));
    assertTrue(e.getMessage().contains("tinit < total_step - tfinal"), e.getMessage());
  }
}
