package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each static strategy against its formula, for the study's depth (L = 24, DialoGPT-medium) and L =
 * 32. Expected values are computed here in exact decimal arithmetic, independently of the strategy
 * code (r_base 16, r_min 4, r_max 24; rounding half up, then clamp).
 */
class RankStrategyTest {
  static final int R = 16;
  static final int MIN = 4;
  static final int MAX = 24;

  /** Every linear module of {@code layers} layers, in layer order. */
  static List<ModuleId> modules(int layers) {
    List<ModuleId> out = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      for (LinearKind k : LinearKind.values()) {
        out.add(new ModuleId(i, k));
      }
    }
    return out;
  }

  private static int halfUp(BigDecimal x) {
    int r = x.setScale(0, RoundingMode.HALF_UP).intValueExact();
    return Math.max(MIN, Math.min(MAX, r));
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void linearDecay(int layers) {
    Map<ModuleId, Integer> got =
        RankStrategy.LINEAR_DECAY.ranks(modules(layers), layers, R, MIN, MAX);
    for (ModuleId m : got.keySet()) {
      // r_i = max(r_min, r_base − (r_base − r_min)·i/(L−1))
      BigDecimal r =
          BigDecimal.valueOf(R)
              .subtract(
                  BigDecimal.valueOf((long) (R - MIN) * m.layer())
                      .divide(BigDecimal.valueOf(layers - 1), 20, RoundingMode.HALF_EVEN));
      assertEquals(halfUp(r.max(BigDecimal.valueOf(MIN))), got.get(m), m.toString());
    }
    assertEquals(R, got.get(new ModuleId(0, LinearKind.Q)));
    assertEquals(MIN, got.get(new ModuleId(layers - 1, LinearKind.DOWN)));
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void attentionHeavy(int layers) {
    Map<ModuleId, Integer> got =
        RankStrategy.ATTENTION_HEAVY.ranks(modules(layers), layers, R, MIN, MAX);
    for (ModuleId m : got.keySet()) {
      assertEquals(m.kind().isAttention() ? R : Math.max(MIN, R / 2), got.get(m), m.toString());
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void empiricalMiddleHeavy(int layers) {
    Map<ModuleId, Integer> got = RankStrategy.EMPIRICAL.ranks(modules(layers), layers, R, MIN, MAX);
    BigDecimal l = BigDecimal.valueOf(layers);
    for (ModuleId m : got.keySet()) {
      BigDecimal i = BigDecimal.valueOf(m.layer());
      BigDecimal factor =
          i.compareTo(new BigDecimal("0.3").multiply(l)) < 0
              ? new BigDecimal("0.6")
              : i.compareTo(new BigDecimal("0.7").multiply(l)) < 0
                  ? new BigDecimal("1.2")
                  : BigDecimal.ONE;
      assertEquals(halfUp(factor.multiply(BigDecimal.valueOf(R))), got.get(m), m.toString());
    }
    // L = 24: layers 0..7 (i < 7.2) get round(9.6) = 10, 8..16 (i < 16.8) get round(19.2) = 19,
    // rest 16
    if (layers == 24) {
      assertEquals(10, got.get(new ModuleId(7, LinearKind.Q)));
      assertEquals(19, got.get(new ModuleId(8, LinearKind.Q)));
      assertEquals(19, got.get(new ModuleId(16, LinearKind.Q)));
      assertEquals(16, got.get(new ModuleId(17, LinearKind.Q)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 32})
  void uniform(int layers) {
    assertTrue(
        RankStrategy.UNIFORM.ranks(modules(layers), layers, R, MIN, MAX).values().stream()
            .allMatch(r -> r == R));
  }

  @ParameterizedTest
  @ValueSource(strings = {"linear_decay", "attention_heavy", "empirical", "uniform"})
  void registryByName(String name) {
    assertEquals(name, RankStrategy.named(name).name());
  }

  @ParameterizedTest
  @ValueSource(strings = {"middle", ""})
  void unknownNameListsTheKnownOnes(String name) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RankStrategy.named(name));
    assertTrue(e.getMessage().contains("empirical"), e.getMessage());
  }
}
