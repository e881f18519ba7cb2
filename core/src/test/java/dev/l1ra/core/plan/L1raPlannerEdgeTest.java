package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Planner behaviour beyond the reference's happy path: the one-rank floor keeps the largest gate,
 * full receivers spill over to the pruned adapters, bad snapshots are named, plans serialize.
 */
class L1raPlannerEdgeTest {
  static final L1raPlanner.Settings S = L1raPlannerSpecTest.RANK;

  @Test
  void floorKeepsTheLargestGate() {
    RankPlan p =
        L1raPlanner.plan(List.of(L1raPlannerSpecTest.g(0, LinearKind.Q, 1e-6, 1.4e-6, 0)), S);
    assertArrayEquals(new int[] {1}, p.changes().get(0).keep());
  }

  @Test
  void cappedReceiversSpillOverToPrunedAdaptersInsteadOfFailing() {
    GateSnapshot nearlyFull =
        new GateSnapshot(new ModuleId(0, LinearKind.Q), new double[] {0.9, 0.9}, 10, 3);
    GateSnapshot donor =
        new GateSnapshot(new ModuleId(0, LinearKind.K), new double[] {0, 0, 0, 0.5}, 10, 8);
    RankPlan p = L1raPlanner.plan(List.of(nearlyFull, donor), S);
    assertEquals(6, p.totalRankAfter(), "3 freed: 1 to q0 (its cap), 2 back to k0");
    assertTrue(p.fallback());
  }

  @Test
  void duplicateModulesAreRejected() {
    GateSnapshot q = L1raPlannerSpecTest.g(0, LinearKind.Q, 0, 0.9);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> L1raPlanner.plan(List.of(q, q), S));
    assertTrue(e.getMessage().contains(q.id().hfName()), e.getMessage());
  }

  @Test
  void snapshotsValidateEveryField() {
    ModuleId q = new ModuleId(0, LinearKind.Q);
    assertThrows(
        IllegalArgumentException.class, () -> new GateSnapshot(null, new double[] {1}, 1, 1));
    assertThrows(
        IllegalArgumentException.class, () -> new GateSnapshot(q, new double[] {Double.NaN}, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new GateSnapshot(q, new double[] {1}, 0, 1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new GateSnapshot(q, new double[] {1, 1}, 1, 1));
    assertTrue(e.getMessage().contains("maxRank"), e.getMessage());
  }

  @Test
  void recordsHoldingModuleIdsSurviveJavaSerialization() throws Exception {
    RankPlan p = L1raPlanner.plan(L1raPlannerSpecTest.example(), S);
    assertEquals(
        L1raPlannerSpecTest.summary(p),
        L1raPlannerSpecTest.summary((RankPlan) L1raPlannerSpecTest.roundTrip(p)));
    GateSnapshot g = L1raPlannerSpecTest.example().get(3);
    assertArrayEquals(g.gates(), ((GateSnapshot) L1raPlannerSpecTest.roundTrip(g)).gates());
    ParaCompressor.Result r =
        new ParaCompressor.Result(1.0, Map.of(new ModuleId(0, LinearKind.Q), 2), 0.5);
    assertEquals(r, L1raPlannerSpecTest.roundTrip(r));
  }
}
