package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.fused.FusedAttention;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.testing.SyntheticSamples;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A garbage collection between forward and backward leaves the gradients unchanged. Autograd keeps
 * tensors of the forward until backward; if one of them lived in a Java buffer whose DJL handle was
 * already closed (as DJL's scalar overloads such as {@code mul(Number)} do), the collector frees it
 * and backward reads whatever reuses that memory. The test forces that: after the forward it
 * collects, waits for the buffer cleaner, and fills freshly allocated small native buffers with NaN
 * (the freed blocks are handed out again first), then runs backward and requires the gradients of
 * an undisturbed run, bit for bit. Before the constant pool in {@code Ops}, every case here gave
 * non-finite gradients.
 */
class GcSafetyTest {
  static final List<Sample> DATA = SyntheticSamples.make(17, 4, 320, 10, 24);

  @ParameterizedTest
  @CsvSource({
    "plain,peft,0.0,FP32",
    "plain,gated,0.1,FP32",
    "fused,peft,0.0,FP32",
    "fused,gated,0.1,FP32",
    "plain,gated,0.1,FP16"
  })
  void collectingBetweenForwardAndBackwardChangesNoGradient(
      String attention, String adapters, double dropout, Precision precision) throws Exception {
    AttentionKernel kernel =
        attention.equals("fused") ? FusedAttention.load(Device.cpu()) : new PlainAttention();
    try (LlamaModel m =
            LlamaModel.load(Fixtures.model("tiny-llama3"), Device.cpu(), precision, kernel);
        NDManager am = m.manager().newSubManager()) {
      AdapterSet peft =
          PeftAdapters.load(Fixtures.model("tiny-llama3").resolve("lora-r4"), m.config(), am)
              .adapters();
      AdapterSet set =
          adapters.equals("peft")
              ? peft
              : AdapterSet.create(peft.layout(), am, AdapterInit.GAUSSIAN, 3, true, dropout);
      Map<String, float[]> quiet = gradients(m, set, false);
      Map<String, float[]> disturbed = gradients(m, set, true);
      assertEquals(quiet.keySet(), disturbed.keySet());
      int nonzero = 0;
      for (String k : quiet.keySet()) {
        for (float v : disturbed.get(k)) {
          assertTrue(Float.isFinite(v), k + " has a non-finite gradient after a GC");
          nonzero += v != 0 ? 1 : 0;
        }
        assertArrayEquals(quiet.get(k), disturbed.get(k), k + " changed after a GC");
      }
      assertTrue(nonzero > 0, "all gradients are zero: the test would check nothing");
    } finally {
      if (kernel instanceof FusedAttention f) {
        f.close();
      }
    }
  }

  private static Map<String, float[]> gradients(LlamaModel m, AdapterSet set, boolean disturb)
      throws InterruptedException {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (NDScope s = new NDScope()) {
      HostBatch b = HostBatch.split(DATA, 4, 0).get(0);
      NDList t = b.targets(m.manager());
      Batch batch = b.toDevice(m.manager());
      try (GradientCollector gc = EngineInfo.engine().newGradientCollector()) {
        NDArray nll =
            Ops.scoped(
                () -> CausalLmLoss.nllSum(m.logits(batch, set, true, 5), t.get(0), t.get(1)));
        List<ByteBuffer> reuse = disturb ? collectAndReuse() : List.of();
        gc.backward(Ops.mulOnce(nll, 0.25));
        Reference.reachabilityFence(reuse); // the NaN blocks stay taken
      }
      for (TrainableParam p : set.trainable()) {
        out.put(p.name(), p.array().getGradient().toFloatArray());
        Ops.zeroGrad(p.array());
      }
    }
    return out;
  }

  /**
   * Frees every unreachable direct buffer, then takes small blocks back and fills them with NaN.
   */
  private static List<ByteBuffer> collectAndReuse() throws InterruptedException {
    System.gc();
    Thread.sleep(200); // the cleaner thread frees the buffers' native memory
    List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      ByteBuffer bb = ByteBuffer.allocateDirect(4 << (i % 3)).order(ByteOrder.nativeOrder());
      for (int j = 0; j < bb.capacity(); j += 4) {
        bb.putFloat(j, Float.NaN);
      }
      held.add(bb);
    }
    return held;
  }
}
