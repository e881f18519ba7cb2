package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterEntry;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.testing.SyntheticSamples;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  static final List<Sample> DATA = SyntheticSamples.make(3, 64, 320, 10, 24);
  @TempDir Path tmp;

  private static LlamaModel model(Precision p) {
    return LlamaModel.load(Fixtures.model("tiny-llama3"), Device.cpu(), p, new PlainAttention());
  }

  private static AdapterLayout layout(LlamaModel m) {
    return AdapterLayout.resolve(m.config(), LoraSettings.uniform(4, 8, List.of("all-linear")));
  }

  private static AdapterSet adapters(LlamaModel m, NDManager am, boolean gated, double dropout) {
    return AdapterSet.create(layout(m), am, AdapterInit.GAUSSIAN, 11, gated, dropout);
  }

  @Test
  void twoMicroBatchesOfFourEqualOneOfEight() {
    try (LlamaModel m = model(Precision.FP32);
        NDManager am = m.manager().newSubManager();
        NDScope scope = new NDScope()) {
      AdapterSet set = adapters(m, am, false, 0.0);
      // make B non-zero so every gradient is non-trivial
      set.trainable().forEach(p -> p.array().addi(0.01f));
      List<Sample> eight = DATA.subList(0, 8);
      long learned = eight.stream().mapToLong(Sample::learnedTokens).sum();
      Map<String, float[]> a = grads(m, set, HostBatch.split(eight, 4, 0), learned);
      Map<String, float[]> b = grads(m, set, HostBatch.split(eight, 8, 0), learned);
      double worst = 0;
      for (String k : a.keySet()) {
        float[] x = a.get(k);
        float[] y = b.get(k);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < x.length; i++) {
          diff = Math.max(diff, Math.abs(x[i] - y[i]));
          scale = Math.max(scale, Math.abs(y[i]));
        }
        assertTrue(scale > 0, k + " has a gradient");
        worst = Math.max(worst, diff / scale);
      }
      System.out.printf("accumulation: 2x4 vs 1x8 max |diff|/max|grad| per tensor %.3g%n", worst);
      assertTrue(worst < 1e-5, "gradients differ by " + worst);
    }
  }

  private static Map<String, float[]> grads(
      LlamaModel m, AdapterSet set, List<HostBatch> micro, long learned) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (NDScope s = new NDScope()) {
      GradientStep.accumulate(m, set, micro, new GradientStep.Options(learned, 1.0, 5, false));
      for (TrainableParam p : set.trainable()) {
        out.put(p.name(), p.array().getGradient().toFloatArray());
        Ops.zeroGrad(p.array());
      }
    }
    return out;
  }

  /** Trains {@code steps} from scratch or from a checkpoint; returns the per-step losses. */
  static boolean withL1ra = false;

  /** A listener asks to stop (as a SIGTERM does) after this step (-1: never). */
  static int stopAfter = -1;

  private static RankController l1ra(AdapterLayout initial) {
    L1raPlanner.Settings ps =
        new L1raPlanner.Settings(5e-3, 1e-2, 0.995, true, true, L1raPlanner.Budget.RANK);
    return new L1raController(ps, 3, 0, 7, initial, false, List.of());
  }

  private List<Double> train(
      Precision p,
      int steps,
      int from,
      Path ckptDir,
      int checkpointEvery,
      List<byte[]> finalWeights) {
    List<Double> losses = new ArrayList<>();
    StopRequest stop = new StopRequest();
    try (LlamaModel m = model(p);
        NDManager am = m.manager().newSubManager();
        TrainOptimizer opt = new TrainOptimizer(AdamSettings.defaults(), am)) {
      AdapterSet set;
      Checkpoint.State state = null;
      if (from > 0) {
        Path dir = ckptDir.resolve(String.format("step-%06d", from));
        state = Checkpoint.readState(dir);
        set = Checkpoint.restore(dir, state, am, opt.adam());
      } else {
        set = adapters(m, am, true, 0.1);
      }
      Trainer.Settings s =
          new Trainer.Settings(
              steps,
              8,
              7,
              step -> 5e-3 * (1 - step / (double) steps),
              0.01,
              1.0,
              new GateRule(1e-2, 1e-2, false),
              3,
              2,
              0,
              checkpointEvery,
              ckptDir,
              2);
      Trainer t =
          new Trainer(
              s,
              set,
              opt,
              new LocalGradients(m, DATA, 4, 0, false),
              null,
              withL1ra ? l1ra(layout(m)) : RankController.NONE,
              p == Precision.FP16 ? LossScaler.dynamic(1024) : LossScaler.disabled(),
              List.of(
                  stop,
                  new TrainListener() {
                    @Override
                    public void onStep(StepRecord r) {
                      losses.add(r.loss());
                      if (r.step() == stopAfter) {
                        stop.request("SIGTERM");
                      }
                    }
                  }));
      if (state != null) {
        t.restore(state);
      }
      t.run(from);
      for (TrainableParam tp : set.trainable()) {
        finalWeights.add(tp.array().toByteArray());
      }
      set.close();
    }
    return losses;
  }

  @Test
  void resumedRunReproducesTheUninterruptedOneBitForBit() {
    List<byte[]> straight = new ArrayList<>();
    List<Double> full = train(Precision.FP32, 8, 0, tmp.resolve("a"), 4, straight);
    List<byte[]> resumed = new ArrayList<>();
    List<Double> second = train(Precision.FP32, 8, 4, tmp.resolve("a"), 0, resumed);
    assertEquals(full.subList(4, 8), second, "losses of steps 5..8 identical after resume");
    assertEquals(straight.size(), resumed.size());
    for (int i = 0; i < straight.size(); i++) {
      assertArrayEquals(straight.get(i), resumed.get(i), "final adapter tensor " + i);
    }
  }

  @Test
  void aStopRequestCheckpointsAtTheStepBoundaryAndTheResumedRunMatches() {
    List<byte[]> straight = new ArrayList<>();
    List<Double> full = train(Precision.FP32, 8, 0, tmp.resolve("s0"), 0, straight);
    stopAfter = 3;
    StoppedException e;
    try {
      e =
          assertThrows(
              StoppedException.class,
              () -> train(Precision.FP32, 8, 0, tmp.resolve("s"), 0, new ArrayList<>()));
    } finally {
      stopAfter = -1;
    }
    assertEquals("SIGTERM", e.reason());
    assertEquals(tmp.resolve("s").resolve("step-000003"), e.checkpoint(), e.getMessage());
    assertTrue(e.getMessage().contains("after step 3 of 8"), e.getMessage());
    Checkpoint.State at3 = Checkpoint.readState(e.checkpoint());
    assertEquals(3, at3.step());
    List<byte[]> resumed = new ArrayList<>();
    List<Double> rest = train(Precision.FP32, 8, 3, tmp.resolve("s"), 0, resumed);
    assertEquals(full.subList(3, 8), rest, "losses of steps 4..8 after the stop");
    for (int i = 0; i < straight.size(); i++) {
      assertArrayEquals(straight.get(i), resumed.get(i), "final adapter tensor " + i);
    }
    Checkpoint.State end = Checkpoint.readState(tmp.resolve("s").resolve("step-000008"));
    Checkpoint.State want = Checkpoint.readState(tmp.resolve("s0").resolve("step-000008"));
    assertEquals(want.tokens(), end.tokens(), "tokens carried over the stop and resume");
    assertTrue(at3.tokens() > 0 && end.tokens() > at3.tokens(), "cumulative tokens");
    assertTrue(end.seconds() > at3.seconds(), "seconds continue from the checkpoint's");
  }

  @Test
  void theEtaAfterAResumeUsesThisProcesssRate() {
    // resumed at step 200 of 240: 10 steps in 20 s here, 30 left -> 60 s (steps before the
    // resume ran in another process and say nothing about this one's rate)
    assertEquals(60.0, Trainer.etaSeconds(10, 20.0, 30), 1e-12);
    assertEquals(0.0, Trainer.etaSeconds(0, 0.0, 30), "no step here yet");
  }

  @Test
  void sameRunTwiceIsIdentical() {
    List<Double> a = train(Precision.FP32, 8, 0, tmp.resolve("x"), 4, new ArrayList<>());
    List<Double> b = train(Precision.FP32, 8, 0, tmp.resolve("y"), 0, new ArrayList<>());
    List<Double> c = train(Precision.FP32, 8, 0, null, 0, new ArrayList<>());
    System.out.println("A " + a + "\nB " + b + "\nC " + c);
    assertEquals(a, b);
    assertEquals(b, c);
  }

  @Test
  void resumeAcrossAllocationEventsReproducesTheUninterruptedRun() {
    withL1ra = true;
    try {
      List<byte[]> straight = new ArrayList<>();
      List<Double> full = train(Precision.FP32, 8, 0, tmp.resolve("l"), 4, straight);
      List<byte[]> resumed = new ArrayList<>();
      List<Double> second = train(Precision.FP32, 8, 4, tmp.resolve("l"), 0, resumed);
      assertEquals(full.subList(4, 8), second, "losses after resume, across the event at step 6");
      assertEquals(straight.size(), resumed.size());
      for (int i = 0; i < straight.size(); i++) {
        assertArrayEquals(straight.get(i), resumed.get(i), "final tensor " + i);
      }
      Checkpoint.State s4 = Checkpoint.readState(tmp.resolve("l").resolve("step-000004"));
      long moved = s4.adapters().stream().filter(e -> e.rank() != 4).count();
      assertTrue(moved > 0, "the event at step 3 changed ranks before the checkpoint");
      assertEquals(
          14 * 4, s4.adapters().stream().mapToInt(AdapterEntry::rank).sum(), "Σr conserved");
    } finally {
      withL1ra = false;
    }
  }

  @Test
  void fp16TrainsWithoutNaNAndEndsCloseToFp32() {
    List<Double> f32 = train(Precision.FP32, 12, 0, null, 0, new ArrayList<>());
    List<Double> f16 = train(Precision.FP16, 12, 0, null, 0, new ArrayList<>());
    System.out.printf("fp32 losses %s%nfp16 losses %s%n", f32, f16);
    assertTrue(f16.stream().allMatch(Double::isFinite), "no NaN in fp16: " + f16);
    double gap = Math.abs(f16.get(11) - f32.get(11));
    assertTrue(gap < 0.05 * f32.get(11), "fp16 final loss within 5% of fp32: gap " + gap);
  }
}
