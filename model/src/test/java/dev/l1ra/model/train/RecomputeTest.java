package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.testing.SyntheticSamples;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Layer-wise recomputation gives the same LoRA gradients and loss as one backward pass. */
class RecomputeTest {
  static final List<Sample> DATA = SyntheticSamples.make(17, 6, 320, 10, 24);

  private static Map<String, float[]> grads(
      LlamaModel m, AdapterSet set, boolean recompute, double[] loss) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (NDScope s = new NDScope()) {
      long learned = DATA.stream().mapToLong(Sample::learnedTokens).sum();
      List<HostBatch> micro = HostBatch.split(DATA, 3, 0);
      loss[0] =
          GradientStep.accumulate(
                  m, set, micro, new GradientStep.Options(learned, 1.0, 99, recompute))
              .getFloat();
      for (TrainableParam p : set.trainable()) {
        out.put(p.name(), p.array().getGradient().toFloatArray());
        Ops.zeroGrad(p.array());
      }
    }
    return out;
  }

  @ParameterizedTest
  @CsvSource({
    "tiny-llama3,lora-r4,0.0",
    "tiny-mistral,lora-pattern,0.0",
    "tiny-qwen2,rslora-r4,0.0",
    "tiny-llama3,lora-pattern,0.2"
  })
  void recomputedGradientsEqualTheDirectOnes(String model, String adapter, double dropout) {
    try (LlamaModel m =
            LlamaModel.load(
                Fixtures.model(model), Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager am = m.manager().newSubManager()) {
      AdapterSet loaded =
          PeftAdapters.load(Fixtures.model(model).resolve(adapter), m.config(), am).adapters();
      AdapterSet set = new AdapterSet(loaded.all(), dropout);
      double[] l1 = new double[1];
      double[] l2 = new double[1];
      Map<String, float[]> a = grads(m, set, false, l1);
      Map<String, float[]> b = grads(m, set, true, l2);
      double worst = 0;
      for (String k : a.keySet()) {
        float[] x = a.get(k);
        float[] y = b.get(k);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < x.length; i++) {
          diff = Math.max(diff, Math.abs(x[i] - y[i]));
          scale = Math.max(scale, Math.abs(x[i]));
        }
        worst = Math.max(worst, diff / scale);
      }
      System.out.printf(
          "recompute %s/%s dropout %.1f: max relative gradient difference %.3g, loss %.7f vs %.7f%n",
          model, adapter, dropout, worst, l1[0], l2[0]);
      assertTrue(
          worst <= 1e-6, "gradients differ by " + worst + " (relative to each tensor's largest)");
      assertEquals(l1[0], l2[0], 1e-6 * Math.abs(l1[0]));
    }
  }
}
