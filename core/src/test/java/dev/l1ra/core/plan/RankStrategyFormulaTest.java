package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The static strategies against per-layer tables written out by hand (L = 24 and L = 32, r_base 16,
 * r_min 4, r_max 24) and against exact integer arithmetic over many depths and rank settings. Rule
 * under test (RankStrategy's Javadoc): formula, then round half up, then clamp to [r_min, r_max],
 * at least 1.
 */
class RankStrategyFormulaTest {
  // 16 − 12·i/23 rounded half up, i = 0..23
  static final int[] DECAY_24 = {
    16, 15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4
  };
  // 16 − 12·i/31 rounded half up, i = 0..31
  static final int[] DECAY_32 = {
    16, 16, 15, 15, 14, 14, 14, 13, 13, 13, 12, 12, 11, 11, 11, 10, 10, 9, 9, 9, 8, 8, 7, 7, 7, 6,
    6, 6, 5, 5, 4, 4
  };

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void linearDecayMatchesTheHandTable(int layers) {
    int[] expected = layers == 24 ? DECAY_24 : DECAY_32;
    assertEquals(layers, expected.length);
    Map<ModuleId, Integer> got =
        RankStrategy.LINEAR_DECAY.ranks(RankStrategyTest.modules(layers), layers, 16, 4, 24);
    assertEquals(7 * layers, got.size());
    got.forEach((m, r) -> assertEquals(expected[m.layer()], r, m.toString()));
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void empiricalMatchesTheHandTable(int layers) {
    // L = 24: 0.3L = 7.2, 0.7L = 16.8; L = 32: 9.6, 22.4. 0.6·16 = 9.6 -> 10, 1.2·16 = 19.2 -> 19
    int lastLow = layers == 24 ? 7 : 9;
    int lastMid = layers == 24 ? 16 : 22;
    Map<ModuleId, Integer> got =
        RankStrategy.EMPIRICAL.ranks(RankStrategyTest.modules(layers), layers, 16, 4, 24);
    got.forEach(
        (m, r) -> {
          int want = m.layer() <= lastLow ? 10 : m.layer() <= lastMid ? 19 : 16;
          assertEquals(want, r, m.toString());
        });
    Map<ModuleId, Integer> capped =
        RankStrategy.EMPIRICAL.ranks(RankStrategyTest.modules(layers), layers, 16, 12, 18);
    assertEquals(12, capped.get(new ModuleId(0, LinearKind.Q)), "9.6 -> 10, raised to r_min 12");
    assertEquals(18, capped.get(new ModuleId(lastMid, LinearKind.Q)), "19.2 -> 19, cut to 18");
  }

  @Test
  void attentionHeavyRoundsHalfRanksUp() {
    List<ModuleId> ms = RankStrategyTest.modules(24);
    Map<ModuleId, Integer> odd = RankStrategy.ATTENTION_HEAVY.ranks(ms, 24, 15, 1, 64);
    assertEquals(15, odd.get(new ModuleId(3, LinearKind.O)));
    assertEquals(8, odd.get(new ModuleId(3, LinearKind.UP)), "15 / 2 = 7.5 rounds up to 8");
    Map<ModuleId, Integer> floor = RankStrategy.ATTENTION_HEAVY.ranks(ms, 24, 16, 10, 64);
    assertEquals(10, floor.get(new ModuleId(0, LinearKind.DOWN)), "max(r_min, 8) = 10");
    assertEquals(16, floor.get(new ModuleId(0, LinearKind.V)));
  }

  @Test
  void oneLayerModelsKeepTheBaseRank() {
    assertEquals(16, RankStrategy.LINEAR_DECAY.rank(new ModuleId(0, LinearKind.Q), 1, 16, 4, 24));
  }

  /** Exhaustive check against exact rational arithmetic: no double-rounding surprises. */
  @Test
  void exactArithmeticOverManyShapes() {
    int[] bases = {1, 2, 7, 8, 15, 16, 33, 64};
    int[] mins = {1, 2, 4};
    for (int layers = 1; layers <= 160; layers++) {
      for (int rb : bases) {
        for (int rmin : mins) {
          if (rmin > rb) {
            continue;
          }
          int rmax = rb + rb / 2;
          for (int i = 0; i < layers; i++) {
            ModuleId m = new ModuleId(i, LinearKind.GATE);
            String at = "L=" + layers + " r=" + rb + " rmin=" + rmin + " i=" + i;
            assertEquals(
                decay(layers, i, rb, rmin, rmax),
                RankStrategy.LINEAR_DECAY.rank(m, layers, rb, rmin, rmax),
                at);
            assertEquals(
                empirical(layers, i, rb, rmin, rmax),
                RankStrategy.EMPIRICAL.rank(m, layers, rb, rmin, rmax),
                at);
          }
        }
      }
    }
  }

  /** round_half_up((rb·(L−1) − (rb−rmin)·i) / (L−1)), clamped. */
  private static int decay(int layers, int i, int rb, int rmin, int rmax) {
    if (layers == 1) {
      return clamp(rb, rmin, rmax);
    }
    long num = (long) rb * (layers - 1) - (long) (rb - rmin) * i;
    long den = layers - 1;
    return clamp(Math.floorDiv(2 * num + den, 2 * den), rmin, rmax);
  }

  /** 10·i < 3·L: 6·rb/10; 10·i < 7·L: 12·rb/10; else rb; rounded half up, clamped. */
  private static int empirical(int layers, int i, int rb, int rmin, int rmax) {
    long tenths = 10L * i < 3L * layers ? 6 : 10L * i < 7L * layers ? 12 : 10;
    return clamp(Math.floorDiv(2 * tenths * rb + 10, 20), rmin, rmax);
  }

  private static int clamp(long r, int rmin, int rmax) {
    return (int) Math.max(1, Math.max(rmin, Math.min(rmax, r)));
  }
}
