package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class L1raPlannerTest {
  /** threshold = 1e-4·5e-3 + 1e-6 = 1.5e-6, as in the reference experiments. */
  static final L1raPlanner.Settings S =
      new L1raPlanner.Settings(1e-4, 5e-3, 1e-6, true, true, L1raPlanner.Budget.RANK);

  static GateSnapshot g(int layer, LinearKind k, double... gates) {
    return new GateSnapshot(new ModuleId(layer, k), gates, 100, 64);
  }

  static RankPlan.Change change(RankPlan p, int layer, LinearKind k) {
    return p.changes().stream()
        .filter(c -> c.id().equals(new ModuleId(layer, k)))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void thresholdIsStrictlyBelow() {
    double t = S.threshold();
    assertEquals(1.5e-6, t, 1e-18);
    RankPlan p =
        L1raPlanner.plan(
            List.of(g(0, LinearKind.Q, t, 0.5, Math.nextDown(t)), g(0, LinearKind.K, 0.9, 0.8)), S);
    assertArrayEquals(
        new int[] {0, 1},
        change(p, 0, LinearKind.Q).keep(),
        "c == t survives, c just below t is pruned");
    assertEquals(1, p.freed());
  }

  @Test
  void everyAdapterKeepsItsLastRankWhenAllGatesAreDead() {
    RankPlan p =
        L1raPlanner.plan(List.of(g(0, LinearKind.Q, 0, 0, 0), g(0, LinearKind.V, 0.7, 0.6)), S);
    assertArrayEquals(
        new int[] {2},
        change(p, 0, LinearKind.Q).keep(),
        "the reference drops the last index from the prune set");
    assertEquals(2, p.freed());
    assertEquals(4, change(p, 0, LinearKind.V).newRank());
  }

  @Test
  void roundRobinByLargestMinimumGateSkippingPrunedAdapters() {
    // mins: q 0.9, k 0.2, v 0.5 (none pruned); o prunes 3 ranks, gate prunes 2
    List<GateSnapshot> s =
        List.of(
            g(0, LinearKind.Q, 0.9, 0.95),
            g(0, LinearKind.K, 0.2, 0.3),
            g(0, LinearKind.V, 0.5, 0.6),
            g(0, LinearKind.O, 0, 0, 0, 0.4),
            g(0, LinearKind.GATE, 0, 0.8, 0));
    RankPlan p = L1raPlanner.plan(s, S);
    assertEquals(5, p.freed());
    // order q (0.9), v (0.5), k (0.2): q, v, k, q, v
    assertEquals(2, change(p, 0, LinearKind.Q).added());
    assertEquals(2, change(p, 0, LinearKind.V).added());
    assertEquals(1, change(p, 0, LinearKind.K).added());
    assertEquals(0, change(p, 0, LinearKind.O).added(), "pruned in this event: excluded");
    assertEquals(0, change(p, 0, LinearKind.GATE).added());
    assertArrayEquals(new int[] {3}, change(p, 0, LinearKind.O).keep());
    assertArrayEquals(new int[] {1}, change(p, 0, LinearKind.GATE).keep());
    assertFalse(p.fallback());
    assertEquals(p.totalRankBefore(), p.totalRankAfter());
  }

  @Test
  void whenNobodyMayReceiveTheRanksGoToEveryoneInsteadOfVanishing() {
    RankPlan p =
        L1raPlanner.plan(List.of(g(0, LinearKind.Q, 0, 0.9), g(1, LinearKind.Q, 0.5, 0)), S);
    assertTrue(p.fallback());
    assertEquals(2, p.freed());
    assertEquals(4, p.totalRankAfter());
    // fallback order by min gate before pruning: both 0, ties by module order: layer 0 then 1
    assertEquals(1, change(p, 0, LinearKind.Q).added());
    assertEquals(1, change(p, 1, LinearKind.Q).added());
  }

  @Test
  void adaptersAtTheirMaximumRankReceiveNothing() {
    GateSnapshot full =
        new GateSnapshot(new ModuleId(0, LinearKind.Q), new double[] {0.9, 0.9}, 10, 2);
    GateSnapshot other = g(0, LinearKind.K, 0.5, 0.5);
    GateSnapshot donor = g(0, LinearKind.V, 0, 0, 0.7);
    RankPlan p = L1raPlanner.plan(List.of(full, other, donor), S);
    assertEquals(0, change(p, 0, LinearKind.Q).added());
    assertEquals(2, change(p, 0, LinearKind.K).added());
  }

  @Test
  void budgetInvariantAndDeterminismOverRandomSnapshots() {
    Random rng = new Random(11);
    for (int trial = 0; trial < 300; trial++) {
      List<GateSnapshot> s = new ArrayList<>();
      for (int layer = 0; layer < 4; layer++) {
        for (LinearKind k : LinearKind.values()) {
          double[] c = new double[1 + rng.nextInt(8)];
          for (int j = 0; j < c.length; j++) {
            c[j] = rng.nextDouble() < 0.3 ? 0 : rng.nextDouble();
          }
          s.add(new GateSnapshot(new ModuleId(layer, k), c, 50 + rng.nextInt(200), 64));
        }
      }
      RankPlan p = L1raPlanner.plan(s, S);
      assertEquals(p.totalRankBefore(), p.totalRankAfter(), "Σr conserved");
      assertTrue(p.changes().stream().allMatch(c -> c.newRank() >= 1));
      List<GateSnapshot> shuffled = new ArrayList<>(s);
      Collections.shuffle(shuffled, rng);
      assertEquals(
          summary(p), summary(L1raPlanner.plan(shuffled, S)), "independent of input order");
      L1raPlanner.Settings params =
          new L1raPlanner.Settings(1e-4, 5e-3, 1e-6, true, true, L1raPlanner.Budget.PARAMETERS);
      RankPlan q = L1raPlanner.plan(s, params);
      long before = cost(s, q, true);
      long after = cost(s, q, false);
      assertTrue(after <= before, "parameter budget never exceeded");
      assertEquals(before - after, q.unusedParameters());
    }
  }

  private static String summary(RankPlan p) {
    StringBuilder sb = new StringBuilder();
    p.changes()
        .forEach(
            c ->
                sb.append(c.id())
                    .append(Arrays.toString(c.keep()))
                    .append('+')
                    .append(c.added())
                    .append(';'));
    return sb.toString();
  }

  private static long cost(List<GateSnapshot> s, RankPlan p, boolean before) {
    long total = 0;
    for (RankPlan.Change c : p.changes()) {
      GateSnapshot g = s.stream().filter(x -> x.id().equals(c.id())).findFirst().orElseThrow();
      total += (long) g.rankCost() * (before ? c.oldRank() : c.newRank());
    }
    return total;
  }

  @Test
  void noReassignLosesTheRanksAsTheReferenceOptionDoes() {
    L1raPlanner.Settings off =
        new L1raPlanner.Settings(1e-4, 5e-3, 1e-6, false, true, L1raPlanner.Budget.RANK);
    RankPlan p =
        L1raPlanner.plan(List.of(g(0, LinearKind.Q, 0, 0.9), g(0, LinearKind.K, 0.5, 0.4)), off);
    assertEquals(1, p.freed());
    assertEquals(0, p.reassigned());
    assertEquals(3, p.totalRankAfter());
  }
}
