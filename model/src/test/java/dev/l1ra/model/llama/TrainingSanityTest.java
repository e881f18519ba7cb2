package dev.l1ra.model.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.testing.Expected;
import dev.l1ra.model.testing.NativeMemory;
import dev.l1ra.model.train.AdamW;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A few SGD steps on a repeated batch: the loss falls, base weights do not move, memory is flat.
 */
class TrainingSanityTest {

  /** One scoped forward/backward/update; returns the loss. Nothing outlives the step's scope. */
  private static float step(
      LlamaModel model, AdapterSet adapters, AdamW opt, Expected exp, float lr) {
    try (NDScope scope = new NDScope()) {
      Batch batch = exp.batch(model.manager());
      long[] shifted = CausalLmLoss.shift(exp.longs2d("labels"));
      NDList t = CausalLmLoss.targets(model.manager(), shifted, batch.size(), batch.seqLen());
      float loss;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray l =
            CausalLmLoss.nllSum(model.logits(batch, adapters, true), t.get(0), t.get(1))
                .div(CausalLmLoss.countTargets(shifted));
        gc.backward(l);
        loss = l.getFloat();
      }
      for (TrainableParam p : adapters.trainable()) {
        opt.update(p, p.array().getGradient(), new AdamW.GroupStep(lr, 0));
        Ops.zeroGrad(p.array());
      }
      return loss;
    }
  }

  @Test
  void lossFallsAndBaseWeightsStayBitIdentical() {
    try (LlamaModel model =
            LlamaModel.load(
                Fixtures.model("tiny-llama3"), Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager am = model.manager().newSubManager();
        Expected exp =
            new Expected(Fixtures.model("tiny-llama3").resolve("expected.safetensors"))) {
      byte[] before = snapshot(model);
      AdapterLayout layout =
          AdapterLayout.resolve(model.config(), LoraSettings.uniform(8, 16, List.of("all-linear")));
      AdapterSet adapters =
          AdapterSet.create(layout, am, AdapterInit.KAIMING_UNIFORM, 1, false, 0.0);
      AdamW opt = new AdamW(AdamSettings.defaults(), am);
      float first = step(model, adapters, opt, exp, 1e-2f);
      float last = first;
      for (int i = 0; i < 30; i++) {
        last = step(model, adapters, opt, exp, 1e-2f);
      }
      System.out.printf("sanity: loss %.4f -> %.4f after 31 AdamW steps%n", first, last);
      assertTrue(last < first - 0.5f, "loss fell clearly: " + first + " -> " + last);
      assertArrayEquals(before, snapshot(model), "base weights bit-identical");
    }
  }

  @Test
  void threeHundredStepsDoNotGrowNativeMemory() {
    try (LlamaModel model =
            LlamaModel.load(
                Fixtures.model("tiny-qwen2"), Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager am = model.manager().newSubManager();
        Expected exp = new Expected(Fixtures.model("tiny-qwen2").resolve("expected.safetensors"))) {
      AdapterLayout layout =
          AdapterLayout.resolve(model.config(), LoraSettings.uniform(4, 8, List.of("all-linear")));
      AdapterSet adapters = AdapterSet.create(layout, am, AdapterInit.GAUSSIAN, 1, true, 0.1);
      AdamW opt = new AdamW(AdamSettings.defaults(), am);
      for (int i = 0; i < 20; i++) {
        step(model, adapters, opt, exp, 1e-3f); // warm up allocator pools
      }
      long rss0 = NativeMemory.residentBytes();
      int arrays0 = model.manager().getManagedArrays().size() + am.getManagedArrays().size();
      for (int i = 0; i < 300; i++) {
        step(model, adapters, opt, exp, 1e-3f);
      }
      long grown = NativeMemory.residentBytes() - rss0;
      int arrays1 = model.manager().getManagedArrays().size() + am.getManagedArrays().size();
      System.out.printf(
          "memory: RSS grew %d KiB over 300 steps; managed arrays %d -> %d%n",
          grown / 1024, arrays0, arrays1);
      assertTrue(
          arrays1 == arrays0,
          "no arrays left attached to the model: " + arrays0 + " -> " + arrays1);
      // Unscoped steps grow RSS by ~2.5 MB per step here; scoped ones stay within allocator and JIT
      // noise (~10 KB per step on this machine, flat over 1,500 steps). Java-side leaks of any size
      // show in the managed-array count above.
      assertTrue(grown < 24L << 20, "RSS grew by " + grown + " bytes over 300 steps");
    }
  }

  private static byte[] snapshot(LlamaModel model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LlamaWeights w = model.weights();
    out.writeBytes(w.embed().toByteArray());
    for (LayerWeights l : w.layers()) {
      out.writeBytes(l.inputNorm().toByteArray());
      l.projections().values().forEach(p -> out.writeBytes(p.weight().toByteArray()));
    }
    out.writeBytes(w.lmHead().toByteArray());
    return out.toByteArray();
  }
}
