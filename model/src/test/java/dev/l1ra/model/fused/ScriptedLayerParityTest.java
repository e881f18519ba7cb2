package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.testing.SyntheticSamples;
import dev.l1ra.model.train.GradientStep;
import dev.l1ra.model.train.HostBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A decoder layer as one TorchScript call computes what the op-by-op path computes, bit for bit on
 * the CPU: loss and every adapter gradient of a forward and backward through the whole fixture
 * model, for each adapter variant (PEFT LoRA, L1RA's gated LoRA, AdaLoRA), with and without LoRA
 * dropout, on padded rows (the masked attention path) and full rows (the causal path), with biases
 * (Qwen2) and in fp16, with and without layer-wise recomputation.
 */
class ScriptedLayerParityTest {
  @TempDir static Path cache;

  @ParameterizedTest
  @CsvSource({
    "tiny-llama3,lora,0.0,FP32,padded,false",
    "tiny-llama3,gated,0.1,FP32,padded,false",
    "tiny-llama3,gated,0.0,FP32,full,false",
    "tiny-llama3,adalora,0.0,FP32,full,false",
    "tiny-mistral,gated,0.0,FP32,padded,false",
    "tiny-qwen2,lora,0.1,FP32,full,false",
    "tiny-qwen2,gated,0.0,FP32,padded,true",
    "tiny-llama3,gated,0.1,FP16,padded,false",
    "tiny-llama3,lora,0.0,FP16,full,true"
  })
  void wholeLayerScriptEqualsTheOpByOpPath(
      String model, String variant, double dropout, Precision p, String rows, boolean recompute) {
    List<Sample> data =
        rows.equals("full")
            ? SyntheticSamples.make(5, 4, 300, 20, 20)
            : SyntheticSamples.make(5, 4, 300, 8, 20);
    Result ops = run(model, variant, dropout, p, data, recompute, false, 1);
    Result script = run(model, variant, dropout, p, data, recompute, true, 1);
    assertEquals(0, ops.scripts, "the op-by-op run used a script");
    assertTrue(script.scripts > 0, "the scripted run never ran a layer script");
    assertEquals(ops.nll, script.nll, 0.0, "loss");
    assertEquals(ops.grads.keySet(), script.grads.keySet());
    int nonzero = 0;
    for (String k : ops.grads.keySet()) {
      assertArrayEquals(ops.grads.get(k), script.grads.get(k), k);
      for (float v : ops.grads.get(k)) {
        nonzero += v != 0 ? 1 : 0;
      }
    }
    assertTrue(nonzero > 0, "all gradients are zero: the comparison would check nothing");
  }

  /**
   * With TorchScript's profiling graph executor on (the GPU default; forced here on the CPU, where
   * it specialises the layer graph after the first pass and differentiates it symbolically), the
   * third forward and backward still computes the op-by-op path's loss and gradients up to
   * rounding.
   */
  @ParameterizedTest
  @CsvSource({
    "tiny-llama3,lora,FP32,padded,false",
    "tiny-llama3,gated,FP32,full,false",
    "tiny-llama3,adalora,FP32,full,false",
    "tiny-qwen2,gated,FP32,padded,true",
    "tiny-llama3,gated,FP16,padded,false"
  })
  void theOptimizedLayerGraphAgreesWithTheOpByOpPath(
      String model, String variant, Precision p, String rows, boolean recompute) {
    List<Sample> data =
        rows.equals("full")
            ? SyntheticSamples.make(5, 4, 300, 20, 20)
            : SyntheticSamples.make(5, 4, 300, 8, 20);
    Result ops = run(model, variant, 0.0, p, data, recompute, false, 1);
    Result optimized;
    System.setProperty(ScriptedLayers.GRAPH_OPTIMIZER_PROPERTY, "true");
    try {
      optimized = run(model, variant, 0.0, p, data, recompute, true, 3);
    } finally {
      System.clearProperty(ScriptedLayers.GRAPH_OPTIMIZER_PROPERTY);
    }
    boolean fp16 = p == Precision.FP16;
    assertTrue(optimized.scripts > 0, "the optimized run never ran a layer script");
    assertEquals(ops.nll, optimized.nll, (fp16 ? 2e-3 : 1e-5) * Math.abs(ops.nll), "loss");
    double max = 0;
    double err = 0;
    for (String k : ops.grads.keySet()) {
      float[] want = ops.grads.get(k);
      float[] got = optimized.grads.get(k);
      for (int i = 0; i < want.length; i++) {
        max = Math.max(max, Math.abs(want[i]));
        err = Math.max(err, Math.abs(want[i] - got[i]));
      }
    }
    assertTrue(max > 0, "all gradients are zero: the comparison would check nothing");
    assertTrue(
        err <= (fp16 ? 2e-2 : 1e-5) * max, "gradients off by " + err + " (largest " + max + ")");
  }

  private record Result(double nll, Map<String, float[]> grads, int scripts) {}

  private static Result run(
      String name,
      String variant,
      double dropout,
      Precision p,
      List<Sample> data,
      boolean recompute,
      boolean wholeLayers,
      int passes) {
    FusedAttention kernel =
        FusedAttention.load(Device.cpu(), cache, FusedAttention.GroupedHeads.AUTO, wholeLayers);
    try (LlamaModel m = LlamaModel.load(Fixtures.model(name), Device.cpu(), p, kernel);
        NDManager am = m.manager().newSubManager();
        NDScope scope = new NDScope()) {
      AdapterSet set = adapters(m, variant, dropout, am);
      long learned = data.stream().mapToLong(Sample::learnedTokens).sum();
      double nll = 0;
      for (int pass = 0; pass < passes; pass++) {
        set.trainable().forEach(t -> Ops.zeroGrad(t.array()));
        nll =
            GradientStep.accumulate(
                    m,
                    set,
                    HostBatch.split(data, 2, 0),
                    new GradientStep.Options(learned, p == Precision.FP16 ? 64 : 1, 11, recompute))
                .getFloat();
      }
      Map<String, float[]> grads = new LinkedHashMap<>();
      for (TrainableParam t : set.trainable()) {
        grads.put(t.name(), t.array().getGradient().toFloatArray());
      }
      set.close();
      return new Result(nll, grads, kernel.scriptedLayerConfigs());
    } finally {
      kernel.close();
    }
  }

  /** r 4 on every projection; B nonzero so every gradient flows. */
  private static AdapterSet adapters(LlamaModel m, String variant, double dropout, NDManager am) {
    AdapterLayout layout =
        AdapterLayout.resolve(m.config(), LoraSettings.uniform(4, 8, List.of("all-linear")));
    if (variant.equals("adalora")) {
      List<Adapter> list = new ArrayList<>();
      for (AdapterSpec s : layout.specs()) {
        AdaLoraAdapter a = AdaLoraAdapter.create(s, am, 7);
        a.mid().addi(0.5f);
        list.add(a);
      }
      return new AdapterSet(list, dropout);
    }
    AdapterSet set =
        AdapterSet.create(layout, am, AdapterInit.GAUSSIAN, 7, variant.equals("gated"), dropout);
    for (Adapter a : set.all()) {
      a.up().addi(0.01f);
    }
    return set;
  }
}
