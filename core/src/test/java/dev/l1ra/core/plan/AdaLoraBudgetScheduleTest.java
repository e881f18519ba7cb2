package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * PEFT {@code RankAllocator.budget_schedule} by hand: init 96, target 64 (Δ 32), total 100, tinit
 * 10, tfinal 10, deltaT 10, so the cubic phase spans D = 80 steps (11..90).
 */
class AdaLoraBudgetScheduleTest {
  static final AdaLoraBudget B = new AdaLoraBudget(96, 64, 10, 10, 10, 100);

  @Test
  void phasesAndCubicValues() {
    assertEquals(new AdaLoraBudget.Step(96, false), B.at(0));
    assertEquals(new AdaLoraBudget.Step(96, false), B.at(10), "step <= tinit: full budget");
    // 11: mul 79/80 = 0.9875, cube 0.962966796875, 32·cube = 30.81... -> int(94.81) = 94
    assertEquals(new AdaLoraBudget.Step(94, false), B.at(11));
    // 30: mul 0.75, cube 0.421875, 32·cube = 13.5 -> int(77.5) = 77; 30 % 10 == 0
    assertEquals(new AdaLoraBudget.Step(77, true), B.at(30));
    // 31: mul 0.7375, cube 0.401130859375, 32·cube = 12.836... -> 76
    assertEquals(new AdaLoraBudget.Step(76, false), B.at(31));
    // 50: mul 0.5 -> 64 + 4 = 68
    assertEquals(new AdaLoraBudget.Step(68, true), B.at(50));
    // 90 = total − tfinal: mul 0 -> target, still the middle phase (mask by deltaT)
    assertEquals(new AdaLoraBudget.Step(64, true), B.at(90));
    assertEquals(
        new AdaLoraBudget.Step(64, false), new AdaLoraBudget(96, 64, 10, 10, 7, 100).at(90));
    // 91..: final phase, target, masked every step
    assertEquals(new AdaLoraBudget.Step(64, true), B.at(91));
    assertEquals(new AdaLoraBudget.Step(64, true), B.at(97));
  }

  @Test
  void peftDefaultsMaskEveryStep() {
    // tinit 0, tfinal 0, deltaT 1 (PEFT defaults): every step from 1 on is a masking step
    AdaLoraBudget d = new AdaLoraBudget(12, 8, 0, 0, 1, 4);
    assertEquals(new AdaLoraBudget.Step(12, false), d.at(0));
    // 1: mul 0.75 -> int(4·0.421875 + 8) = int(9.6875) = 9
    assertEquals(new AdaLoraBudget.Step(9, true), d.at(1));
    // 2: mul 0.5 -> int(8.5) = 8
    assertEquals(new AdaLoraBudget.Step(8, true), d.at(2));
    assertEquals(new AdaLoraBudget.Step(8, true), d.at(4));
  }

  @Test
  void budgetsAgreeWithPeftsEvaluationOrderOverManySchedules() {
    // PEFT: int((init − target) · mul**3 + target); Java multiplies left to right
    for (int total = 20; total <= 1500; total += 13) {
      AdaLoraBudget b = new AdaLoraBudget(5376, 3584, total / 20, total / 10, 1, total);
      int span = total - total / 10 - total / 20;
      for (int step = total / 20 + 1; step <= total - total / 10; step++) {
        double mul = 1 - (double) (step - total / 20) / span;
        int peft = (int) ((5376 - 3584) * StrictMath.pow(mul, 3) + 3584);
        assertEquals(peft, b.at(step).budget(), "total " + total + " step " + step);
      }
    }
  }

  @Test
  void validationNamesTheValues() {
    IllegalArgumentException equal =
        assertThrows(
            IllegalArgumentException.class, () -> new AdaLoraBudget(96, 64, 90, 10, 1, 100));
    assertTrue(
        equal.getMessage().contains("tinit 90")
            && equal.getMessage().contains("total 100")
            && equal.getMessage().contains("tfinal 10"),
        "tinit == total − tfinal is refused: " + equal.getMessage());
    IllegalArgumentException dt =
        assertThrows(IllegalArgumentException.class, () -> new AdaLoraBudget(96, 64, 0, 0, 0, 100));
    assertTrue(dt.getMessage().contains("got 0"), dt.getMessage());
    IllegalArgumentException grow =
        assertThrows(IllegalArgumentException.class, () -> new AdaLoraBudget(64, 96, 0, 0, 1, 100));
    assertTrue(grow.getMessage().contains("96"), grow.getMessage());
  }
}
