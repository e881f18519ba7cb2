package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * L1raPlanner against the rules of shared/notes §1.4 with hand-computed plans, and against an
 * independent re-statement of the rank-mode plan over random snapshots. Threshold 1.5e-6 (lr_AB
 * 1e-4 · λ 5e-3 + 1e-6) throughout.
 */
class L1raPlannerSpecTest {
  static final L1raPlanner.Settings RANK = settings(true, L1raPlanner.Budget.RANK);
  static final double T = 1e-4 * 5e-3 + 1e-6;

  static L1raPlanner.Settings settings(boolean excludePruned, L1raPlanner.Budget budget) {
    return new L1raPlanner.Settings(1e-4, 5e-3, 1e-6, true, excludePruned, budget);
  }

  static GateSnapshot g(int layer, LinearKind k, double... gates) {
    return new GateSnapshot(new ModuleId(layer, k), gates, 100, 1000);
  }

  static RankPlan.Change change(RankPlan p, int layer, LinearKind k) {
    ModuleId id = new ModuleId(layer, k);
    return p.changes().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
  }

  /** Five adapters: three receivers, two donors (one of them entirely below the threshold). */
  static List<GateSnapshot> example() {
    return List.of(
        g(0, LinearKind.Q, 0.4, 0.9), // min 0.4
        g(0, LinearKind.K, 0.4, 0.5), // min 0.4, tied with q0: q0 first (module order)
        g(1, LinearKind.Q, 0.8, 0.6), // min 0.6
        g(1, LinearKind.V, 0, 0, 0, 0, 0.3, 0), // prunes 5, keeps index 4
        g(2, LinearKind.O, 0, 0)); // all dead: prunes 1, keeps index 1 (the floor)
  }

  @Test
  void roundRobinWrapsAroundInGateOrderWithTiesByModule() {
    RankPlan p = L1raPlanner.plan(example(), RANK);
    assertEquals(6, p.freed());
    assertEquals(6, p.reassigned());
    assertFalse(p.fallback());
    // order q1 (0.6), q0 (0.4), k0 (0.4); six visits: each twice
    assertEquals(4, change(p, 1, LinearKind.Q).newRank());
    assertEquals(4, change(p, 0, LinearKind.Q).newRank());
    assertEquals(4, change(p, 0, LinearKind.K).newRank());
    RankPlan.Change v1 = change(p, 1, LinearKind.V);
    assertArrayEquals(new int[] {4}, v1.keep());
    assertEquals(5, v1.pruned());
    assertEquals(0, v1.added(), "pruned in this event: receives nothing");
    assertEquals(0.0, v1.minGate());
    assertEquals(0.05, v1.meanGate(), 1e-15, "0.3 / 6, before pruning");
    assertArrayEquals(new int[] {1}, change(p, 2, LinearKind.O).keep());
    assertEquals(14, p.totalRankBefore());
    assertEquals(14, p.totalRankAfter());
  }

  @Test
  void withoutExclusionPrunedAdaptersQueueLastByTheirMinimumGate() {
    RankPlan p = L1raPlanner.plan(example(), settings(false, L1raPlanner.Budget.RANK));
    // order q1, q0, k0, v1 (min 0), o2 (min 0; v1 < o2 by module): one each, q1 a second
    assertEquals(4, change(p, 1, LinearKind.Q).newRank());
    assertEquals(3, change(p, 0, LinearKind.Q).newRank());
    assertEquals(3, change(p, 0, LinearKind.K).newRank());
    assertEquals(2, change(p, 1, LinearKind.V).newRank());
    assertEquals(1, change(p, 1, LinearKind.V).added());
    assertEquals(2, change(p, 2, LinearKind.O).newRank());
    assertEquals(14, p.totalRankAfter());
  }

  @Test
  void samePlanForEveryInputOrder() {
    String expected = summary(L1raPlanner.plan(example(), RANK));
    Random rng = new Random(3);
    for (int i = 0; i < 50; i++) {
      List<GateSnapshot> s = new ArrayList<>(example());
      Collections.shuffle(s, rng);
      assertEquals(expected, summary(L1raPlanner.plan(s, RANK)));
    }
  }

  @Test
  void theThresholdIsLrTimesLambdaPlusPruneThreshold() {
    double t = 1e-4 * 5e-3 + 1e-6;
    RankPlan p =
        L1raPlanner.plan(
            List.of(
                g(0, LinearKind.Q, t, Math.nextUp(t), Math.nextDown(t), 0, 1),
                g(0, LinearKind.K, 0.5)),
            RANK);
    assertArrayEquals(new int[] {0, 1, 4}, change(p, 0, LinearKind.Q).keep(), "c == t stays");
    L1raPlanner.Settings noLasso =
        new L1raPlanner.Settings(1e-4, 0, 1e-6, true, true, L1raPlanner.Budget.RANK);
    assertEquals(1e-6, noLasso.threshold());
    RankPlan q = L1raPlanner.plan(List.of(g(0, LinearKind.Q, 1.2e-6, 1e-6, 0.9e-6, 0.5)), noLasso);
    assertArrayEquals(new int[] {0, 1, 3}, q.changes().get(0).keep(), "λ = 0: t = 1e-6");
  }

  @Test
  void maximumRankCapsReceiversDuringRoundRobin() {
    GateSnapshot capped =
        new GateSnapshot(new ModuleId(0, LinearKind.Q), new double[] {0.9, 0.9}, 10, 3);
    RankPlan p =
        L1raPlanner.plan(
            List.of(capped, g(0, LinearKind.K, 0.5, 0.5), g(0, LinearKind.V, 0, 0, 0, 0.7)), RANK);
    // q0 first (0.9) but capped at 3: q0 +1, then k0 takes the other two
    assertEquals(3, change(p, 0, LinearKind.Q).newRank());
    assertEquals(4, change(p, 0, LinearKind.K).newRank());
    assertEquals(p.totalRankBefore(), p.totalRankAfter());
  }

  @Test
  void parameterBudgetIsHandedOutWhileItFits() {
    // freed: 2 ranks of down0 at cost 25 = 50 parameters; order q0 (0.8, cost 10), k0 (0.5, 30)
    List<GateSnapshot> s =
        List.of(
            new GateSnapshot(new ModuleId(0, LinearKind.Q), new double[] {0.9, 0.8}, 10, 64),
            new GateSnapshot(new ModuleId(0, LinearKind.K), new double[] {0.5, 0.7}, 30, 64),
            new GateSnapshot(new ModuleId(0, LinearKind.DOWN), new double[] {0, 0, 0.6}, 25, 64));
    RankPlan p = L1raPlanner.plan(s, settings(true, L1raPlanner.Budget.PARAMETERS));
    // q0 10 (40 left), k0 30 (10 left), q0 10 (0 left): Σr grows from 7 to 8
    assertEquals(2, change(p, 0, LinearKind.Q).added());
    assertEquals(1, change(p, 0, LinearKind.K).added());
    assertEquals(0, p.unusedParameters());
    assertEquals(3, p.reassigned());
    assertEquals(8, p.totalRankAfter());
    List<GateSnapshot> one = new ArrayList<>(s);
    one.set(2, new GateSnapshot(new ModuleId(0, LinearKind.DOWN), new double[] {0, 0.6}, 25, 64));
    RankPlan q = L1raPlanner.plan(one, settings(true, L1raPlanner.Budget.PARAMETERS));
    // 25 freed: q0 (15 left), k0 skipped (30 > 15), q0 (5 left), nothing fits any more
    assertEquals(2, change(q, 0, LinearKind.Q).added());
    assertEquals(0, change(q, 0, LinearKind.K).added());
    assertEquals(5, q.unusedParameters());
  }

  @Test
  void settingsSurviveJavaSerialization() throws Exception {
    assertEquals(RANK, roundTrip(RANK));
  }

  /** Rank mode with uncapped adapters, restated independently: keep sets and exact shares. */
  @Test
  void rankModeMatchesAnIndependentStatementOverRandomSnapshots() {
    Random rng = new Random(2024);
    for (int trial = 0; trial < 400; trial++) {
      List<GateSnapshot> s = randomSnapshots(rng);
      boolean exclude = rng.nextBoolean();
      RankPlan p = L1raPlanner.plan(s, settings(exclude, L1raPlanner.Budget.RANK));
      assertEquals(expected(s, exclude, T), summary(p), "trial " + trial);
      assertEquals(p.totalRankBefore(), p.totalRankAfter(), "Σr conserved, trial " + trial);
      assertEquals(p.freed(), p.reassigned());
    }
  }

  @Test
  void parameterModeNeverOverspendsAndStopsOnlyWhenNothingFits() {
    Random rng = new Random(99);
    for (int trial = 0; trial < 400; trial++) {
      List<GateSnapshot> s = randomSnapshots(rng);
      RankPlan p = L1raPlanner.plan(s, settings(true, L1raPlanner.Budget.PARAMETERS));
      long freed = 0;
      long spent = 0;
      long cheapestReceiver = Long.MAX_VALUE;
      for (RankPlan.Change c : p.changes()) {
        GateSnapshot g = s.stream().filter(x -> x.id().equals(c.id())).findFirst().orElseThrow();
        freed += (long) c.pruned() * g.rankCost();
        spent += (long) c.added() * g.rankCost();
        if (c.pruned() == 0) {
          cheapestReceiver = Math.min(cheapestReceiver, g.rankCost());
        }
      }
      assertTrue(spent <= freed, "spent " + spent + " > freed " + freed);
      assertEquals(freed - spent, p.unusedParameters());
      if (!p.fallback() && freed > 0) {
        assertTrue(p.unusedParameters() < cheapestReceiver, "a receiver still fits");
      }
    }
  }

  private static List<GateSnapshot> randomSnapshots(Random rng) {
    List<GateSnapshot> s = new ArrayList<>();
    for (int layer = 0; layer < 3; layer++) {
      for (LinearKind k : LinearKind.values()) {
        double[] c = new double[1 + rng.nextInt(6)];
        for (int j = 0; j < c.length; j++) {
          int kind = rng.nextInt(5);
          // dead gates are 0 (the clamp's floor), so the floor rule's choice is a tie;
          // exactly-at-threshold gates survive
          c[j] = kind == 0 ? 0 : kind == 1 ? T : kind == 2 ? 0.5 : rng.nextDouble();
        }
        s.add(new GateSnapshot(new ModuleId(layer, k), c, 10 + rng.nextInt(90), 10_000));
      }
    }
    return s;
  }

  /**
   * The rules re-stated: keep c ≥ t (all dead, and so all 0 here: keep the last index); receivers
   * by min gate descending, ties by module; with F freed and m receivers, the receiver at position
   * p gets ⌊F/m⌋ + (p < F mod m ? 1 : 0). Without receivers, all adapters in the same order.
   */
  private static String expected(List<GateSnapshot> in, boolean exclude, double t) {
    List<GateSnapshot> s = new ArrayList<>(in);
    s.sort(Comparator.comparing(GateSnapshot::id));
    List<int[]> keeps = new ArrayList<>();
    int freed = 0;
    for (GateSnapshot g : s) {
      double[] c = g.gates();
      int[] keep = IntStream.range(0, c.length).filter(j -> c[j] >= t).toArray();
      keeps.add(keep.length == 0 ? new int[] {c.length - 1} : keep);
      freed += c.length - keeps.get(keeps.size() - 1).length;
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < s.size(); i++) {
      if (!exclude || keeps.get(i).length == s.get(i).rank()) {
        order.add(i);
      }
    }
    if (order.isEmpty()) {
      for (int i = 0; i < s.size(); i++) {
        order.add(i);
      }
    }
    order.sort(Comparator.comparingDouble((Integer i) -> -s.get(i).min()).thenComparing(i -> i));
    int[] added = new int[s.size()];
    for (int p = 0; p < order.size(); p++) {
      added[order.get(p)] = freed / order.size() + (p < freed % order.size() ? 1 : 0);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.size(); i++) {
      sb.append(s.get(i).id()).append(Arrays.toString(keeps.get(i))).append('+');
      sb.append(added[i]).append(';');
    }
    return sb.toString();
  }

  static String summary(RankPlan p) {
    StringBuilder sb = new StringBuilder();
    for (RankPlan.Change c : p.changes()) {
      sb.append(c.id()).append(Arrays.toString(c.keep())).append('+').append(c.added()).append(';');
    }
    return sb.toString();
  }

  static Object roundTrip(Object o) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return in.readObject();
    }
  }
}
