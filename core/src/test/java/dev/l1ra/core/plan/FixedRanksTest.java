package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FixedRanksTest {
  static final ModuleId Q = new ModuleId(0, LinearKind.Q);
  static final ModuleId DOWN = new ModuleId(1, LinearKind.DOWN);

  @Test
  void returnsTheGivenRanksUnclamped() {
    FixedRanks f = new FixedRanks(Map.of(Q, 40, DOWN, 2));
    assertEquals(Map.of(Q, 40, DOWN, 2), f.ranks(List.of(Q, DOWN), 2, 16, 4, 24));
    assertEquals("fixed", f.name());
  }

  @Test
  void readsALayout() {
    AdapterLayout layout =
        new AdapterLayout(
            List.of(
                new AdapterSpec(Q, 8, 16, 64, 64, false),
                new AdapterSpec(DOWN, 3, 16, 128, 64, false)));
    assertEquals(Map.of(Q, 8, DOWN, 3), FixedRanks.of(layout).ranks());
  }

  @Test
  void unknownModulesAndBadRanksAreNamed() {
    FixedRanks f = new FixedRanks(Map.of(Q, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> f.rank(DOWN, 2, 16, 4, 24));
    assertTrue(e.getMessage().contains(DOWN.hfName()), e.getMessage());
    IllegalArgumentException zero =
        assertThrows(IllegalArgumentException.class, () -> new FixedRanks(Map.of(Q, 0)));
    assertTrue(zero.getMessage().contains("got 0"), zero.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new FixedRanks(Map.of()));
  }
}
