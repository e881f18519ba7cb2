package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.lora.PeftNames;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.core.plan.RankPlan;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.LoraAdapter;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.testing.Expected;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RankSurgeryTest {
  static final ModuleId Q0 = new ModuleId(0, LinearKind.Q);
  static final ModuleId DOWN1 = new ModuleId(1, LinearKind.DOWN);

  /** A plan that keeps {@code keep} of Q0 and adds {@code add} ranks to DOWN1; others untouched. */
  private static RankPlan plan(AdapterSet set, int[] keepQ, int addDown) {
    List<RankPlan.Change> ch = new ArrayList<>();
    for (var a : set.all()) {
      int r = a.spec().rank();
      int[] all = IntStream.range(0, r).toArray();
      if (a.id().equals(Q0)) {
        ch.add(new RankPlan.Change(a.id(), r, keepQ, 0, 0, 0));
      } else {
        ch.add(new RankPlan.Change(a.id(), r, all, a.id().equals(DOWN1) ? addDown : 0, 0, 0));
      }
    }
    return new RankPlan(ch, 0, 0, false, 0);
  }

  private static float[] logits(LlamaModel m, AdapterSet set, Expected exp) {
    try (NDScope s = new NDScope()) {
      return m.logits(exp.batch(m.manager()), set, false).toFloatArray();
    }
  }

  private static float maxAbs(float[] a, float[] b) {
    float d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  LlamaModel m;
  NDManager am;
  Expected exp;
  AdamW adam;
  AdapterLayout layout;

  @BeforeEach
  void load() {
    m =
        LlamaModel.load(
            Fixtures.model("tiny-llama3"), Device.cpu(), Precision.FP32, new PlainAttention());
    am = m.manager().newSubManager();
    exp = new Expected(Fixtures.model("tiny-llama3").resolve("expected.safetensors"));
    adam = new AdamW(AdamSettings.defaults(), am);
    layout = AdapterLayout.resolve(m.config(), LoraSettings.uniform(4, 8, List.of("all-linear")));
  }

  @AfterEach
  void close() {
    adam.close();
    exp.close();
    am.close();
    m.close();
  }

  /**
   * Gated r4/alpha 8 adapters on every module with non-trivial B, one dead gate in Q0 (rank 2) and
   * optimizer moments everywhere.
   */
  private AdapterSet trainedSet() {
    AdapterSet set = AdapterSet.create(layout, am, AdapterInit.GAUSSIAN, 3, true, 0);
    for (TrainableParam p : set.trainable()) {
      try (NDScope s = new NDScope()) {
        if (p.name().contains("lora_B")) {
          p.array().addi(0.05f);
        }
        adam.update(p, p.array().onesLike().mul(0.1f), new AdamW.GroupStep(1e-3, 0));
      }
    }
    ((LoraAdapter) set.get(Q0).orElseThrow()).gate().set(new NDIndex("2"), 0f);
    return set;
  }

  @Test
  void growingAndPruningADeadRankLeaveTheOutputUnchangedAndKeepMoments() {
    try (AdapterSet set = trainedSet()) {
      float[] before = logits(m, set, exp);
      float[] mBefore = adam.moments(PeftNames.loraA(Q0)).m().toFloatArray(); // [4, 64]
      float[] bBefore = ((LoraAdapter) set.get(DOWN1).orElseThrow()).b().toFloatArray();

      RankSurgery.apply(plan(set, new int[] {0, 1, 3}, 2), set, adam, 9, 10, layout, false);

      float[] after = logits(m, set, exp);
      float err = maxAbs(before, after);
      System.out.printf("surgery: max |dlogits| = %.3g%n", err);
      assertTrue(
          err < 1e-6,
          "output unchanged by pruning a dead rank and growing with zero B rows: " + err);
      assertEquals(3, set.get(Q0).orElseThrow().spec().rank());
      assertEquals(6, set.get(DOWN1).orElseThrow().spec().rank());
      float[] mAfter = adam.moments(PeftNames.loraA(Q0)).m().toFloatArray(); // [3, 64]
      assertArrayEquals(
          Arrays.copyOfRange(mBefore, 0, 128),
          Arrays.copyOfRange(mAfter, 0, 128),
          "rows 0, 1 kept");
      assertArrayEquals(
          Arrays.copyOfRange(mBefore, 192, 256),
          Arrays.copyOfRange(mAfter, 128, 192),
          "row 3 kept");
      float[] age = adam.moments(PeftNames.loraB(DOWN1)).age().toFloatArray();
      assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0}, age, "new ranks start at step count 0");
      float[] mB = adam.moments(PeftNames.loraB(DOWN1)).m().toFloatArray(); // [64, 6]
      for (int row = 0; row < 64; row++) {
        assertEquals(0f, mB[row * 6 + 4]);
        assertEquals(0f, mB[row * 6 + 5]);
      }
      float[] bAfter = ((LoraAdapter) set.get(DOWN1).orElseThrow()).b().toFloatArray();
      for (int row = 0; row < 64; row++) {
        assertEquals(bBefore[row * 4 + 3], bAfter[row * 6 + 3]);
        assertEquals(0f, bAfter[row * 6 + 5], "new B columns are zero");
      }
      float[] c = ((LoraAdapter) set.get(DOWN1).orElseThrow()).gate().toFloatArray();
      assertEquals(1f, c[5], "new gates start at 1");
    }
  }

  @Test
  void rescalingAlphaKeepsTheOutputAndMovesBAndItsMomentsTogether() {
    try (AdapterSet set = trainedSet()) {
      float[] before = logits(m, set, exp);
      LoraAdapter down = (LoraAdapter) set.get(DOWN1).orElseThrow();
      float[] bBefore = down.b().toFloatArray();
      float[] mBefore = adam.moments(PeftNames.loraB(DOWN1)).m().toFloatArray();
      float[] vBefore = adam.moments(PeftNames.loraB(DOWN1)).v().toFloatArray();

      RankSurgery.apply(plan(set, new int[] {0, 1, 3}, 2), set, adam, 9, 10, layout, true);

      float err = maxAbs(before, logits(m, set, exp));
      System.out.printf("surgery with alpha rescaling: max |dlogits| = %.3g%n", err);
      assertTrue(err < 1e-6, "output unchanged: " + err);
      assertEquals(8f / 6, down.scaling(), 1e-7f, "down (rank 4 -> 6): alpha / r = 8 / 6");
      assertEquals(8f / 3, ((LoraAdapter) set.get(Q0).orElseThrow()).scaling(), 1e-7f);
      LoraAdapter k0 = (LoraAdapter) set.get(new ModuleId(0, LinearKind.K)).orElseThrow();
      assertEquals(2f, k0.scaling(), "untouched adapters keep alpha / r0");
      float k = 2f / (8f / 6); // old / new scaling for down
      float[] bAfter = down.b().toFloatArray();
      float[] mAfter = adam.moments(PeftNames.loraB(DOWN1)).m().toFloatArray();
      float[] vAfter = adam.moments(PeftNames.loraB(DOWN1)).v().toFloatArray();
      for (int row = 0; row < 64; row++) {
        for (int j = 0; j < 4; j++) {
          assertEquals(bBefore[row * 4 + j] * k, bAfter[row * 6 + j], 1e-6f, "B times old/new");
          assertEquals(mBefore[row * 4 + j] / k, mAfter[row * 6 + j], 1e-7f, "m times new/old");
          assertEquals(vBefore[row * 4 + j] / (k * k), vAfter[row * 6 + j], 1e-9f, "v squared");
        }
      }

      // a second event grows down again: its new A rows are drawn with r0 = 4, as at creation,
      // not with the rank (6) that its rescaled scaling would suggest
      RankSurgery.apply(plan(set, new int[] {0, 1, 2}, 2), set, adam, 9, 20, layout, true);
      int in = down.spec().in();
      float[] a = down.a().toFloatArray(); // [8, in]
      float[] drawn = AdapterInit.GAUSSIAN.initA(9, PeftNames.loraA(DOWN1) + "@20", 2, in, 4);
      assertArrayEquals(drawn, Arrays.copyOfRange(a, 6 * in, 8 * in), "A ~ N(0, 1/r0²)");
      assertEquals(8f / 8, down.scaling(), 1e-7f, "down (rank 6 -> 8): alpha / r = 8 / 8");
    }
  }

  /** Every adapter's rank and A, B and gate values, and every moment, as bytes. */
  private List<byte[]> everything(AdapterSet set) {
    List<byte[]> out = new ArrayList<>();
    for (TrainableParam p : set.trainable()) {
      out.add(p.array().toByteArray());
      AdamW.Moments st = adam.moments(p.name());
      out.add(st.m().toByteArray());
      out.add(st.v().toByteArray());
      out.add(st.age().toByteArray());
    }
    return out;
  }

  private static void assertSame(List<byte[]> before, List<byte[]> after) {
    assertEquals(before.size(), after.size(), "tensor count");
    for (int i = 0; i < before.size(); i++) {
      assertArrayEquals(before.get(i), after.get(i), "tensor " + i + " changed");
    }
  }

  @Test
  void aPlanThatDoesNotFitIsRefusedBeforeAnyAdapterChanges() {
    try (AdapterSet set = trainedSet()) {
      RankPlan good = plan(set, new int[] {0, 1, 3}, 2);
      List<RankPlan.Change> changes = new ArrayList<>(good.changes());
      changes.add(new RankPlan.Change(new ModuleId(99, LinearKind.Q), 4, new int[] {0}, 0, 0, 0));
      List<byte[]> before = everything(set);
      RankSurgery.InvalidPlanException e =
          assertThrows(
              RankSurgery.InvalidPlanException.class,
              () ->
                  RankSurgery.apply(
                      new RankPlan(changes, 1, 1, false, 0), set, adam, 9, 10, layout, false));
      assertTrue(e.getMessage().contains("model.layers.99.self_attn.q_proj"), e.getMessage());
      assertEquals(4, set.get(Q0).orElseThrow().spec().rank(), "Q0 (earlier in the plan) kept");
      assertSame(before, everything(set));
    }
  }

  @Test
  void aFailureWhileResizingLeavesEveryAdapterAndMomentAsItWas() {
    try (AdapterSet set = trainedSet()) {
      breakMoments(DOWN1); // later in module order than Q0, which the plan also resizes
      List<byte[]> before = everything(set);
      assertThrows(
          RuntimeException.class,
          () ->
              RankSurgery.apply(plan(set, new int[] {0, 1, 3}, 2), set, adam, 9, 10, layout, true));
      assertEquals(4, set.get(Q0).orElseThrow().spec().rank(), "Q0 not resized");
      assertEquals(4, set.get(DOWN1).orElseThrow().spec().rank());
      assertSame(before, everything(set));
    }
  }

  @Test
  void anUnexpectedSurgeryFailureStopsTheRunAndLeavesTheAdaptersAsTheyWere() {
    try (AdapterSet set = trainedSet()) {
      L1raPlanner.Settings ps =
          new L1raPlanner.Settings(1e-3, 0, 0.5, true, true, L1raPlanner.Budget.RANK);
      RankPlan plan = L1raPlanner.plan(L1raController.snapshots(set), ps);
      ModuleId receiver =
          plan.changes().stream()
              .filter(c -> c.added() > 0)
              .map(RankPlan.Change::id)
              .findFirst()
              .orElseThrow();
      assertTrue(receiver.compareTo(Q0) > 0, "the failing adapter comes after pruned Q0");
      breakMoments(receiver);
      List<byte[]> before = everything(set);
      L1raController c = new L1raController(ps, 1, 0, 9, layout, false, List.of());
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> c.afterStep(1, 10, set, adam, 1e-3));
      assertTrue(e.getMessage().contains("at step 1 failed"), e.getMessage());
      assertTrue(e.getMessage().contains("newest checkpoint is intact"), e.getMessage());
      assertEquals(0, c.events());
      assertSame(before, everything(set));
    }
  }

  /** Replaces a module's lora_B moments by ones of a wrong rank (resizing them then fails). */
  private void breakMoments(ModuleId id) {
    String name = PeftNames.loraB(id);
    Shape wrong = new Shape(adam.moments(name).m().getShape().get(0), 2);
    NDArray m = am.zeros(wrong);
    NDArray v = am.zeros(wrong);
    NDArray age = am.zeros(new Shape(1, 2));
    NDScope.unregister(m, v, age);
    adam.replace(name, new AdamW.Moments(m, v, age));
  }
}
