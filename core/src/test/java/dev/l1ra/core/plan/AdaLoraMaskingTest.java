package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.plan.AdaLoraMasking.Mask;
import dev.l1ra.core.plan.AdaLoraMasking.TripletScores;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PEFT {@code mask_to_budget} semantics on hand-computed scores. */
class AdaLoraMaskingTest {
  static final ModuleId Q = new ModuleId(0, LinearKind.Q);
  static final ModuleId K = new ModuleId(1, LinearKind.K);
  // flattened and sorted: 0.1 0.2 0.3 0.5 0.7 0.9
  static final List<TripletScores> SCORES =
      List.of(
          new TripletScores(Q, new double[] {0.5, 0.1, 0.9}),
          new TripletScores(K, new double[] {0.3, 0.7, 0.2}));

  @Test
  void keepsScoresAboveTheKthSmallest() {
    Mask m = AdaLoraMasking.mask(SCORES, 3); // k = 6 - 3 = 3: threshold 0.3
    assertEquals(0.3, m.threshold());
    assertArrayEquals(new boolean[] {true, false, true}, m.keep(Q));
    assertArrayEquals(new boolean[] {false, true, false}, m.keep(K));
    assertEquals(2, m.rank(Q));
    assertEquals(1, m.rank(K));
    assertEquals(3, m.kept());
  }

  @Test
  void fullBudgetMasksNothingAndZeroBudgetMasksAll() {
    Mask full = AdaLoraMasking.mask(SCORES, 6);
    assertEquals(Double.NEGATIVE_INFINITY, full.threshold());
    assertEquals(6, full.kept());
    Mask none = AdaLoraMasking.mask(SCORES, 0);
    assertEquals(0.9, none.threshold());
    assertEquals(0, none.kept());
  }

  @Test
  void tiesAtTheThresholdAreAllMaskedAsInPeft() {
    List<TripletScores> tied =
        List.of(
            new TripletScores(Q, new double[] {1, 2}), new TripletScores(K, new double[] {2, 3}));
    Mask m = AdaLoraMasking.mask(tied, 2); // k = 2: threshold 2, both 2s are <= 2
    assertEquals(2.0, m.threshold());
    assertEquals(1, m.kept(), "fewer than the budget survive when scores tie");
    assertArrayEquals(new boolean[] {false, false}, m.keep(Q));
    assertArrayEquals(new boolean[] {false, true}, m.keep(K));
  }

  @Test
  void agreesWithTheBudgetScheduleAndItsThreshold() {
    // init 6 -> target 3 over 10 steps, no warm-up or final phase: step 5 has mul 0.5,
    // budget int(3 · 0.125 + 3) = 3
    AdaLoraBudget b = new AdaLoraBudget(6, 3, 0, 0, 1, 10);
    AdaLoraBudget.Step step = b.at(5);
    assertEquals(new AdaLoraBudget.Step(3, true), step);
    double[] flat = {0.5, 0.1, 0.9, 0.3, 0.7, 0.2};
    // k = 6 − 3: the third smallest score
    assertEquals(0.3, AdaLoraMasking.threshold(flat, step.budget()));
    assertEquals(0.3, AdaLoraMasking.mask(SCORES, step.budget()).threshold());
  }

  @Test
  void inputOrderDoesNotMatter() {
    assertEquals(
        AdaLoraMasking.mask(SCORES, 4).threshold(),
        AdaLoraMasking.mask(List.of(SCORES.get(1), SCORES.get(0)), 4).threshold());
    assertEquals(List.of(Q, K), List.copyOf(AdaLoraMasking.mask(SCORES, 4).keep().keySet()));
  }

  @Test
  void badInputIsNamed() {
    IllegalArgumentException range =
        assertThrows(IllegalArgumentException.class, () -> AdaLoraMasking.mask(SCORES, 7));
    assertTrue(range.getMessage().contains("budget 7"), range.getMessage());
    assertTrue(range.getMessage().contains("triplets 6"), range.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AdaLoraMasking.mask(SCORES, -1));
    IllegalArgumentException nan =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TripletScores(Q, new double[] {0.1, Double.NaN}));
    assertTrue(nan.getMessage().contains("triplet score 1 is NaN"), nan.getMessage());
    IllegalArgumentException dup =
        assertThrows(
            IllegalArgumentException.class,
            () -> AdaLoraMasking.mask(List.of(SCORES.get(0), SCORES.get(0)), 2));
    assertTrue(dup.getMessage().contains(Q.hfName()), dup.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> AdaLoraMasking.mask(SCORES, 3).keep(new ModuleId(5, LinearKind.V)));
  }

  @Test
  void maskIsACopy() {
    Mask m = AdaLoraMasking.mask(SCORES, 3);
    m.keep(Q)[1] = true;
    assertEquals(2, m.rank(Q), "callers cannot change a decided mask");
  }
}
