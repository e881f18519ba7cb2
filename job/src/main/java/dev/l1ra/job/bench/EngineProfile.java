package dev.l1ra.job.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.model.adapter.AdapterInit;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.engine.Precision;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.RandomModels;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.train.HostBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Where the host time of a training step goes on a device (a program for engine work, not a test):
 * the cost of single engine calls of the kinds the model makes (an op, an op with a Java number, a
 * cast recorded by autograd, a TorchScript call, a tensor built from Java data), then one decoder
 * layer's forward and backward and the loss, each as host time until the call returns (dispatch)
 * and as time until the device has finished (synchronised). Prints one line per measurement.
 *
 * <p>{@code java ... dev.l1ra.job.bench.EngineProfile [shape] [layers] [batch] [seq] [fp16|fp32]}
 */
public final class EngineProfile {
  private EngineProfile() {}

  public static void main(String[] argv) {
    String shape = argv.length > 0 ? argv[0] : "tiny";
    int layers = argv.length > 1 ? Integer.parseInt(argv[1]) : 2;
    int batch = argv.length > 2 ? Integer.parseInt(argv[2]) : 1;
    int seq = argv.length > 3 ? Integer.parseInt(argv[3]) : 128;
    Precision p = Precision.parse(argv.length > 4 ? argv[4] : "fp16");
    Device device = EngineInfo.device("auto");
    try (NDManager m = NDManager.newBaseManager(device, EngineInfo.ENGINE)) {
      singleCalls(m, device, p.dataType());
    }
    layers(shape, layers, batch, seq, p, device);
  }

  private static void singleCalls(NDManager m, Device device, DataType dtype) {
    AttentionKernel fused = AttentionKernels.create("auto", device);
    NDArray a = m.randomNormal(new Shape(64, 64));
    NDArray b = m.randomNormal(new Shape(64, 64));
    NDArray h = a.toType(dtype, false);
    a.setRequiresGradient(true);
    call(m, "op: add", () -> a.add(b));
    call(m, "op: mul(Java double)", () -> a.mul(0.5));
    call(m, "op: Ops.mul (pooled constant)", () -> Ops.mul(a, 0.5));
    call(m, "op: Ops.mulOnce", () -> Ops.mulOnce(a, 0.5));
    call(m, "op: linear", () -> Linear.linear(a, b).singletonOrThrow());
    call(m, "op: toType (no grad)", () -> a.toType(dtype, false));
    call(m, "op: create from float[64]", () -> m.create(new float[64]));
    call(m, "op: TorchScript swiglu", () -> fused.swiglu(h, h));
    try (GradientCollector gc = engine().newGradientCollector()) {
      call(m, "recorded: add", () -> a.add(b));
      call(m, "recorded: castWithGrad", () -> Ops.castWithGrad(a, dtype));
      call(m, "recorded: TorchScript swiglu", () -> fused.swiglu(h, h));
      call(
          m,
          "fwd+bwd: 10 recorded muls",
          () -> {
            NDArray x = a;
            for (int i = 0; i < 10; i++) {
              x = x.mul(b);
            }
            gc.backward(x.sum());
            return x;
          });
    }
    AttentionKernels.closeQuietly(fused);
  }

  /** Average host time per call (returned, not finished) and per call finished, over 2000. */
  private static void call(NDManager m, String what, Supplier<NDArray> f) {
    for (int i = 0; i < 200; i++) {
      try (NDScope s = new NDScope()) {
        f.get();
      }
    }
    sync(m);
    int n = 2000;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      try (NDScope s = new NDScope()) {
        f.get();
      }
    }
    long t1 = System.nanoTime();
    sync(m);
    long t2 = System.nanoTime();
    print(what, (t1 - t0) / 1e3 / n, (t2 - t0) / 1e3 / n, "us/call");
  }

  private static void layers(
      String shape, int layers, int batch, int seq, Precision p, Device device) {
    ModelConfig c = RandomModels.shape(shape, 32000).withNumLayers(layers);
    AttentionKernel kernel = AttentionKernels.create("auto", device);
    NDManager base = NDManager.newBaseManager(device, EngineInfo.ENGINE);
    try (LlamaModel model =
            new LlamaModel(c, base, RandomModels.randomWeights(c, base, p.dataType(), 1), kernel);
        NDManager m = model.manager().newSubManager()) {
      AdapterLayout layout =
          AdapterLayout.resolve(c, LoraSettings.uniform(16, 16, List.of("all-linear")));
      AdapterSet adapters = AdapterSet.create(layout, m, AdapterInit.GAUSSIAN, 1, false, 0.0);
      HostBatch hb = HostBatch.collate(rows(batch, seq, c.vocabSize()), 0);
      for (int rep = 0; rep < 6; rep++) {
        boolean report = rep >= 3;
        try (NDScope scope = new NDScope();
            GradientCollector gc = engine().newGradientCollector()) {
          long t0 = System.nanoTime();
          Batch bt = hb.toDevice(model.manager());
          NDList t = hb.targets(model.manager());
          LlamaModel.LayerContext ctx = model.context(bt, adapters, true, -1);
          NDArray x = model.embed(bt);
          sync(model.manager());
          long t1 = System.nanoTime();
          for (int i = 0; i < layers; i++) {
            x = model.layer(i, x, ctx);
          }
          long t2 = System.nanoTime();
          sync(model.manager());
          long t3 = System.nanoTime();
          NDArray nll = CausalLmLoss.nllSum(model.lmHead(model.finalNorm(x)), t.get(0), t.get(1));
          long t4 = System.nanoTime();
          sync(model.manager());
          long t5 = System.nanoTime();
          gc.backward(nll);
          long t6 = System.nanoTime();
          sync(model.manager());
          long t7 = System.nanoTime();
          if (report) {
            print("batch, masks, rope, embed (synced)", 0, (t1 - t0) / 1e6, "ms");
            print("forward per layer", (t2 - t1) / 1e6 / layers, (t3 - t1) / 1e6 / layers, "ms");
            print("final norm, lm_head, loss", (t4 - t3) / 1e6, (t5 - t3) / 1e6, "ms");
            print("backward, whole model", (t6 - t5) / 1e6, (t7 - t5) / 1e6, "ms");
          }
        }
      }
      adapters.close();
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
  }

  private static List<Sample> rows(int batch, int seq, int vocab) {
    SplittableRandom rng = new SplittableRandom(5);
    List<Sample> out = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      int[] ids = rng.ints(seq, 3, vocab).toArray();
      out.add(new Sample("r" + b, ids, ids.clone(), null, null));
    }
    return out;
  }

  /** Waits for the device: a value read back. */
  private static void sync(NDManager m) {
    try (NDArray z = m.zeros(new Shape(1))) {
      z.getFloat();
    }
  }

  private static void print(String what, double host, double done, String unit) {
    System.out.println(
        String.format(
            Locale.ROOT,
            "profile %-36s host %9.2f  finished %9.2f %s",
            what + ":",
            host,
            done,
            unit));
  }

  private static Engine engine() {
    return EngineInfo.engine();
  }
}
