package dev.l1ra.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {
  private static Args parse(String... argv) {
    return Args.parse("bench", argv, Set.of("steps", "seq"), Set.of("recompute"));
  }

  @Test
  void valuesSwitchesSetsAndPositionalsAreParsed() {
    Args a = parse("conf/x.yaml", "--steps", "3", "--seq=64", "--recompute", "--set", "a.b=1");
    assertEquals(3, a.getPositive("steps", 5));
    assertEquals(64, a.getInt("seq", 0));
    assertTrue(a.has("recompute"));
    assertEquals(List.of("a.b=1"), a.sets());
    assertEquals(List.of("conf/x.yaml"), a.positional());
    assertEquals(5, parse().getPositive("steps", 5), "default");
  }

  @Test
  void badValuesAreNamed() {
    for (String bad : List.of("0", "-2")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> parse("--steps", bad).getPositive("steps", 5));
      assertEquals("--steps must be at least 1, got " + bad, e.getMessage());
    }
    IllegalArgumentException t =
        assertThrows(
            IllegalArgumentException.class, () -> parse("--steps", "x").getInt("steps", 5));
    assertTrue(t.getMessage().contains("--steps must be an integer"), t.getMessage());
    IllegalArgumentException u =
        assertThrows(IllegalArgumentException.class, () -> parse("--stpes", "3"));
    assertTrue(u.getMessage().contains("bench: unknown option --stpes"), u.getMessage());
    IllegalArgumentException v =
        assertThrows(IllegalArgumentException.class, () -> parse("--steps"));
    assertTrue(v.getMessage().contains("--steps needs a value"), v.getMessage());
  }
}
