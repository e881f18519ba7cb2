package dev.l1ra.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.testing.Fixtures;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** tiny-llama3: h 64, f 160, 4 heads, 2 kv heads, head_dim 16, vocabulary 320, 2 layers. */
class MemoryEstimatorTest {
  static final ModelConfig TINY = ModelConfigs.load(Fixtures.model("tiny-llama3"));
  static final AdapterLayout ONE_Q =
      new AdapterLayout(
          List.of(new AdapterSpec(new ModuleId(0, LinearKind.Q), 2, 4, 64, 64, false)));

  static MemoryEstimator.Setup plain(int batch, int seq) {
    return new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, batch, seq, false, false, true, 0);
  }

  @Test
  void everyTermMatchesAHandCountForPlainFp32() {
    MemoryEstimate m = MemoryEstimator.estimate(plain(1, 8)); // N = 8 tokens, e = 4
    long layer =
        2 * 8 * 64 * (4 + 4) // two RMSNorms: fp32 input, output
            + 8 * (64 + 2 * 64) * 4 // rotated q; k and v repeated to 4 heads
            + (4 * 8 * 8) * 4 // softmax output, 1·4·8·8 scores
            + 8 * 64 * 4 // o_proj's input
            + 5 * 8 * 160 * 4 // gate, up, sigmoid, silu, product
            + 8 * 2 * 4 / 2; // the one adapter's x·Aᵀ, spread over 2 layers
    assertEquals(43_040, layer);
    long rope = 2 * 8 * 16 * 4; // cos, sin
    assertEquals(2 * layer + rope, m.activations());
    assertEquals(TINY.baseParameters() * 4, m.weights());
    long n = 2 * (64 + 64);
    assertEquals(4 * n, m.adapters());
    assertEquals(4 * n, m.gradients());
    assertEquals(12 * n, m.driverHost());
    assertEquals(8 * 320 * 4 + 8 * 64 * 4, m.logits()); // log-probabilities, final norm input
    assertEquals(8 * 320 * 8, m.lossBackward());
    assertEquals(3 * 8 * 160 * 4 + 2 * 8 * 64 * 4, m.layerBackward()); // the MLP's side is larger
    assertEquals(m.weights() + 8 * n + m.activations() + m.logits() + m.lossBackward(), m.peak());
  }

  @Test
  void fp16HalvesTheWeightsAndKeepsFp32MastersWithHalfCopies() {
    MemoryEstimator.Setup s =
        new MemoryEstimator.Setup(TINY, 2, ONE_Q, false, 1, 8, false, false, true, 0);
    MemoryEstimate m = MemoryEstimator.estimate(s);
    long n = 256;
    assertEquals(TINY.baseParameters() * 2, m.weights());
    assertEquals(4 * n + 2 * n, m.adapters());
    assertEquals(8 * 320 * 10, m.lossBackward()); // + the fp16 gradient of the logits
  }

  /**
   * A worker that runs AdamW itself (local, rounds) holds its moments and step counts on the
   * device, and a GPU adds its runtime; the synchronous mode's driver holds them on the host.
   */
  @Test
  void deviceOptimizerAndGpuRuntimeAreTermsOfTheirOwn() {
    MemoryEstimate cpu = MemoryEstimator.estimate(plain(1, 8));
    MemoryEstimate gpu = MemoryEstimator.estimate(plain(1, 8).on(true, true));
    long n = 256; // r·(in + out) of the one adapter
    assertEquals(0, cpu.optimizer());
    assertEquals(0, cpu.runtime());
    assertEquals(12 * n, cpu.driverHost());
    assertEquals(8 * n + 4 * 2 * 3, gpu.optimizer()); // m, v and three shapes of r step counts
    assertEquals(MemoryEstimator.GPU_RUNTIME, gpu.runtime());
    assertEquals(0, gpu.driverHost());
    assertEquals(cpu.peak() + gpu.optimizer() + gpu.runtime(), gpu.peak());
  }

  @Test
  void gatesAddOneValuePerRankAndOneActivation() {
    MemoryEstimator.Setup s =
        new MemoryEstimator.Setup(TINY, 4, ONE_Q, true, 1, 8, false, false, true, 0);
    MemoryEstimate gated = MemoryEstimator.estimate(s);
    MemoryEstimate plain = MemoryEstimator.estimate(plain(1, 8));
    assertEquals(4 * (256 + 2), gated.adapters());
    assertEquals(2 * (8 * 2 * 4 / 2), gated.activations() - plain.activations());
  }

  @Test
  void activationsScaleWithTheMicroBatchAndPlainAttentionWithTheSquareOfTheLength() {
    for (boolean fused : new boolean[] {false, true}) {
      MemoryEstimator.Setup s =
          new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, 3, 64, false, fused, true, 0);
      long one = MemoryEstimator.estimate(s).activations();
      long two = MemoryEstimator.estimate(s.withMicroBatch(6)).activations();
      assertEquals(2 * one, two, "fused " + fused);
    }
    // plain − fused at length s: the s² terms (softmax output, mask) less fused's O(s) ones
    long[] gap = new long[2];
    int[] lengths = {256, 512};
    for (int i = 0; i < 2; i++) {
      MemoryEstimator.Setup p = plain(1, lengths[i]);
      MemoryEstimator.Setup f =
          new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, 1, lengths[i], false, true, true, 0);
      gap[i] =
          MemoryEstimator.estimate(p).activations() - MemoryEstimator.estimate(f).activations();
    }
    assertTrue(gap[1] > 3.5 * gap[0], "quadratic growth: " + gap[0] + " → " + gap[1]);
  }

  @Test
  void recomputationKeepsLayerInputsAndRecomputesOneLayerAtATime() {
    MemoryEstimator.Setup s =
        new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, 2, 32, true, false, true, 0);
    MemoryEstimator.Setup full =
        new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, 2, 32, false, false, true, 0);
    MemoryEstimate r = MemoryEstimator.estimate(s);
    MemoryEstimate f = MemoryEstimator.estimate(full);
    long layer = MemoryEstimator.layerActivations(s);
    long inputs = 2L * 32 * 64 * 4;
    long context = 2L * 2 * 32 * 16 * 4; // cos, sin
    assertEquals(2 * inputs + context, r.activations());
    assertEquals(f.layerBackward() + layer, r.layerBackward(), "the recomputed layer");
    assertEquals(f.logits() + f.lossBackward(), r.logits() + r.lossBackward());
    assertTrue(r.peak() < f.peak(), "recomputation lowers the peak");
  }

  @Test
  void dropoutKeepsADroppedCopyOfEachAdapterInputWithItsMask() {
    MemoryEstimator.Setup s =
        new MemoryEstimator.Setup(TINY, 4, ONE_Q, false, 1, 8, false, false, true, 0.1);
    long extra =
        MemoryEstimator.estimate(s).activations()
            - MemoryEstimator.estimate(plain(1, 8)).activations();
    assertEquals(2 * (8 * 64 * (4 + 1) / 2), extra); // two layers, each half of one adapter
  }

  @Test
  void theLargestMicroBatchFitsAndTheNextDoesNot() {
    MemoryEstimator.Setup s = plain(1, 128);
    long one = MemoryEstimator.estimate(s).peak();
    long perSample = MemoryEstimator.estimate(s.withMicroBatch(2)).peak() - one;
    Budget b = new Budget(one + 5 * perSample + perSample / 2, 0, 0);
    int best = MemoryEstimator.largestMicroBatch(s, b, 64);
    assertEquals(6, best);
    assertTrue(b.fits(MemoryEstimator.estimate(s.withMicroBatch(best))));
    assertTrue(!b.fits(MemoryEstimator.estimate(s.withMicroBatch(best + 1))));
    assertEquals(4, MemoryEstimator.largestMicroBatch(s, b, 4), "capped by the search bound");
    assertEquals(0, MemoryEstimator.largestMicroBatch(s, new Budget(one - 1, 0, 0), 64));
  }

  @Test
  void theLargestRankFitsAndTheNextDoesNot() {
    MemoryEstimator.Setup s = plain(2, 64);
    IntFunction<AdapterLayout> uniform =
        r -> AdapterLayout.resolve(TINY, LoraSettings.uniform(r, r, List.of("all-linear")));
    long at8 = MemoryEstimator.estimate(s.withLayout(uniform.apply(8))).peak();
    Budget b = new Budget(at8, 0, 0);
    assertEquals(8, MemoryEstimator.largestRank(s, uniform, b, 1024));
  }

  @Test
  void budgetsHoldBackAFractionAndRejectNonsense() {
    Budget b = Budget.ofGib(80); // the GPU runtime is a term of the estimate, not of the budget
    assertEquals((long) (80.0 * (1L << 30) * 0.95), b.usable());
    assertEquals((long) (80.0 * (1L << 30) * 0.9) - 7, new Budget(80L << 30, 7, 0.1).usable());
    assertThrows(IllegalArgumentException.class, () -> new Budget(0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Budget(1, 0, 1.0));
    assertThrows(IllegalArgumentException.class, () -> plain(0, 8));
    assertThrows(
        IllegalArgumentException.class,
        () -> new MemoryEstimator.Setup(TINY, 3, ONE_Q, false, 1, 8, false, false, true, 0));
  }
}
