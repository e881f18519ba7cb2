package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.plan.ParaCompressor.Result;
import dev.l1ra.core.plan.ParaCompressor.SingularValues;
import dev.l1ra.core.plan.ParaCompressor.Target;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hand-computed PARA thresholds. The running example, in module order: q0 σ = {4, 2, 1} (energy 16,
 * 4, 1), k0 σ = {3, 1} (9, 1), v0 σ = {0.5} (0.25); total energy 31.25.
 */
class ParaCompressorTest {
  static final ModuleId Q = new ModuleId(0, LinearKind.Q);
  static final ModuleId K = new ModuleId(0, LinearKind.K);
  static final ModuleId V = new ModuleId(0, LinearKind.V);
  static final List<SingularValues> EXAMPLE =
      List.of(
          new SingularValues(Q, new double[] {4, 2, 1}),
          new SingularValues(K, new double[] {3, 1}),
          new SingularValues(V, new double[] {0.5}));

  @Test
  void energyFractionPicksTheLargestThresholdThatHoldsIt() {
    // 0.8 · 31.25 = 25: 16 + 9 reaches it at σ = 3
    Result r = ParaCompressor.compress(EXAMPLE, Target.energy(0.8));
    assertEquals(3.0, r.threshold());
    assertEquals(Map.of(Q, 1, K, 1, V, 1), r.ranks(), "v0 keeps its one rank by the floor");
    assertEquals(25.25 / 31.25, r.keptEnergy(), 1e-15);
    // 0.9 · 31.25 = 28.125: 16 + 9 + 4 = 29 at σ = 2
    Result s = ParaCompressor.compress(EXAMPLE, Target.energy(0.9));
    assertEquals(2.0, s.threshold());
    assertEquals(Map.of(Q, 2, K, 1, V, 1), s.ranks());
    assertEquals(29.25 / 31.25, s.keptEnergy(), 1e-15);
  }

  @Test
  void valuesTiedWithTheThresholdAreAllKept() {
    // 0.95 · 31.25 = 29.6875: 29 + 1 (q0's σ = 1) reaches it; k0's σ = 1 ties and stays too
    Result r = ParaCompressor.compress(EXAMPLE, Target.energy(0.95));
    assertEquals(1.0, r.threshold());
    assertEquals(Map.of(Q, 3, K, 2, V, 1), r.ranks());
    assertEquals(1.0, r.keptEnergy(), 1e-15);
  }

  @Test
  void fullEnergyKeepsEverythingNonZero() {
    List<SingularValues> withZero =
        List.of(
            new SingularValues(Q, new double[] {2, 1, 0}), new SingularValues(K, new double[] {1}));
    Result r = ParaCompressor.compress(withZero, Target.energy(1.0));
    assertEquals(1.0, r.threshold());
    assertEquals(Map.of(Q, 2, K, 1), r.ranks(), "a zero singular value carries no energy");
  }

  @Test
  void allZeroAdaptersKeepOnlyTheFloor() {
    List<SingularValues> zero =
        List.of(
            new SingularValues(Q, new double[] {0, 0}), new SingularValues(K, new double[] {0}));
    Result r = ParaCompressor.compress(zero, Target.energy(0.5));
    assertEquals(Double.POSITIVE_INFINITY, r.threshold());
    assertEquals(Map.of(Q, 1, K, 1), r.ranks());
    assertEquals(1.0, r.keptEnergy());
  }

  @Test
  void rankBudgetIsMetExactlyWithTiesBrokenByModuleOrder() {
    // pool without each adapter's top: q0 {2, 1}, k0 {1}
    Result three = ParaCompressor.compress(EXAMPLE, Target.ranks(3));
    assertEquals(Double.POSITIVE_INFINITY, three.threshold(), "B = n keeps only the floor");
    assertEquals(Map.of(Q, 1, K, 1, V, 1), three.ranks());
    assertEquals(25.25 / 31.25, three.keptEnergy(), 1e-15);
    Result four = ParaCompressor.compress(EXAMPLE, Target.ranks(4));
    assertEquals(2.0, four.threshold());
    assertEquals(Map.of(Q, 2, K, 1, V, 1), four.ranks());
    Result five = ParaCompressor.compress(EXAMPLE, Target.ranks(5));
    assertEquals(1.0, five.threshold());
    assertEquals(Map.of(Q, 3, K, 1, V, 1), five.ranks(), "q0's 1 beats k0's tied 1: q < k");
    assertEquals(5, five.totalRank());
    assertEquals(
        Map.of(Q, 3, K, 2, V, 1), ParaCompressor.compress(EXAMPLE, Target.ranks(6)).ranks());
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 7})
  void rankBudgetOutsideTheFeasibleRangeIsNamed(int budget) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ParaCompressor.compress(EXAMPLE, Target.ranks(budget)));
    assertTrue(e.getMessage().contains("para total rank " + budget), e.getMessage());
    assertTrue(e.getMessage().contains("3") && e.getMessage().contains("6"), e.getMessage());
  }

  @Test
  void unsortedSingularValuesCountTheSame() {
    List<SingularValues> shuffled =
        List.of(
            new SingularValues(V, new double[] {0.5}),
            new SingularValues(K, new double[] {1, 3}),
            new SingularValues(Q, new double[] {1, 4, 2}));
    assertEquals(
        ParaCompressor.compress(EXAMPLE, Target.energy(0.9)),
        ParaCompressor.compress(shuffled, Target.energy(0.9)));
    assertEquals(
        ParaCompressor.compress(EXAMPLE, Target.ranks(5)),
        ParaCompressor.compress(shuffled, Target.ranks(5)));
  }

  @Test
  void propertiesOverRandomAdapters() {
    Random rng = new Random(7);
    for (int trial = 0; trial < 200; trial++) {
      List<SingularValues> in = random(rng);
      double f = 0.05 + 0.95 * rng.nextDouble();
      Result e = ParaCompressor.compress(in, Target.energy(f));
      assertTrue(e.keptEnergy() >= f - 1e-12, "kept energy " + e.keptEnergy() + " < " + f);
      for (SingularValues a : in) {
        long above = Arrays.stream(a.values()).filter(s -> s >= e.threshold()).count();
        assertEquals(Math.max(1, above), (long) e.ranks().get(a.id()), a.id().toString());
      }
      int total = in.stream().mapToInt(a -> a.values().length).sum();
      int budget = in.size() + rng.nextInt(total - in.size() + 1);
      Result b = ParaCompressor.compress(in, Target.ranks(budget));
      assertEquals(budget, b.totalRank(), "rank budget met exactly");
      assertTrue(b.ranks().values().stream().allMatch(r -> r >= 1));
      if (budget < total) {
        Result more = ParaCompressor.compress(in, Target.ranks(budget + 1));
        assertTrue(more.keptEnergy() >= b.keptEnergy(), "one more rank never loses energy");
      }
      List<SingularValues> shuffled = new ArrayList<>(in);
      Collections.shuffle(shuffled, rng);
      assertEquals(b, ParaCompressor.compress(shuffled, Target.ranks(budget)));
    }
  }

  private static List<SingularValues> random(Random rng) {
    List<SingularValues> out = new ArrayList<>();
    for (int layer = 0; layer < 3; layer++) {
      for (LinearKind k : LinearKind.values()) {
        double[] s = new double[1 + rng.nextInt(8)];
        for (int j = 0; j < s.length; j++) {
          s[j] = rng.nextInt(4) == 0 ? Math.floor(rng.nextDouble() * 4) : rng.nextDouble() * 3;
        }
        out.add(new SingularValues(new ModuleId(layer, k), s));
      }
    }
    return out;
  }

  @Test
  void badInputIsNamed() {
    IllegalArgumentException neg =
        assertThrows(
            IllegalArgumentException.class, () -> new SingularValues(Q, new double[] {1, -0.5}));
    assertTrue(neg.getMessage().contains("singular value 1 is -0.5"), neg.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new SingularValues(Q, new double[] {Double.NaN}));
    assertThrows(IllegalArgumentException.class, () -> new SingularValues(Q, new double[0]));
    IllegalArgumentException target =
        assertThrows(IllegalArgumentException.class, () -> Target.energy(1.5));
    assertTrue(target.getMessage().contains("1.5"), target.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Target.energy(0));
    assertThrows(IllegalArgumentException.class, () -> new Target(0.5, 10));
    IllegalArgumentException dup =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ParaCompressor.compress(
                    List.of(EXAMPLE.get(0), EXAMPLE.get(0)), Target.energy(0.5)));
    assertTrue(dup.getMessage().contains(Q.hfName()), dup.getMessage());
  }
}
