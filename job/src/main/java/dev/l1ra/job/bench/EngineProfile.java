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
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.engine.Precisions;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.AttentionMask;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.RandomModels;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.train.HostBatch;
import dev.l1ra.model.train.TrainOptimizer;
import java.util.ArrayList;
import java.util.Arrays;
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
      singleCalls(m, device, Precisions.dataType(p));
    }
    layers(shape, layers, batch, seq, p, device);
    optimizer(shape, device);
    matrixWork(shape, batch, seq, p, device);
  }

  /**
   * The optimizer's steps on the adapters of the full model shape (r 16 on all projections, L1RA
   * gates), with gradients in the parameters' .grad as after a backward.
   */
  private static void optimizer(String shape, Device device) {
    ModelConfig c = RandomModels.shape(shape, 32000);
    try (NDManager m = NDManager.newBaseManager(device, EngineInfo.ENGINE)) {
      AdapterLayout layout =
          AdapterLayout.resolve(c, LoraSettings.uniform(16, 16, List.of("all-linear")));
      AdapterSet adapters = AdapterSet.create(layout, m, AdapterInit.GAUSSIAN, 1, true, 0.0);
      try (GradientCollector gc = engine().newGradientCollector()) {
        for (TrainableParam t : adapters.trainable()) {
          gc.backward(t.array().sum());
        }
      }
      TrainOptimizer.Hyper hp =
          new TrainOptimizer.Hyper(1e-4, 0, 1.0, new GateRule(1e-2, 1e-3, false));
      print("optimizer tensors", adapters.trainable().size(), 0, "");
      try (TrainOptimizer uniform = new TrainOptimizer(AdamSettings.defaults(), m);
          TrainOptimizer exact =
              new TrainOptimizer(AdamSettings.defaults(), m).uniformBiasCorrection(false)) {
        timed(m, "optimizer: step, uniform ages", () -> uniform.step(adapters, null, 1, hp));
        timed(m, "optimizer: step, per-rank ages", () -> exact.step(adapters, null, 1, hp));
      }
      timed(m, "optimizer: accumulated()", () -> TrainOptimizer.accumulated(adapters).size());
      timed(m, "optimizer: adapters.trainable()", () -> adapters.trainable().size());
      timed(m, "optimizer: zeroGrad", () -> TrainOptimizer.zeroGrad(adapters));
      adapters.close();
    }
  }

  /** Host and finished ms of a call, averaged over 20 after 3 warm-ups. */
  private static void timed(NDManager m, String what, Runnable f) {
    for (int i = 0; i < 3; i++) {
      try (NDScope s = new NDScope()) {
        f.run();
      }
    }
    sync(m);
    int n = 20;
    long host = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      try (NDScope s = new NDScope()) {
        long a = System.nanoTime();
        f.run();
        host += System.nanoTime() - a;
      }
      sync(m);
    }
    print(what, host / 1e6 / n, (System.nanoTime() - t0) / 1e6 / n, "ms");
  }

  /**
   * The matrix work of a forward+backward of the whole model, timed alone: each layer's GEMMs (q,
   * k, v, o, gate, up, down) forward and their input-gradient GEMMs, the attention kernel forward
   * and backward, and the lm_head forward and input gradient; nothing else.
   */
  private static void matrixWork(String shape, int batch, int seq, Precision p, Device device) {
    ModelConfig c = RandomModels.shape(shape, 32000);
    DataType t = Precisions.dataType(p);
    AttentionKernel kernel = AttentionKernels.create("auto", device);
    try (NDManager m = NDManager.newBaseManager(device, EngineInfo.ENGINE)) {
      long tokens = (long) batch * seq;
      int h = c.hiddenSize();
      int kv = c.numKvHeads() * c.headDim();
      int[][] shapes = {
        {h, h},
        {kv, h},
        {kv, h},
        {h, h},
        {c.intermediateSize(), h},
        {c.intermediateSize(), h},
        {h, c.intermediateSize()}
      };
      List<NDArray> w = new ArrayList<>();
      List<NDArray> x = new ArrayList<>();
      List<NDArray> dy = new ArrayList<>();
      for (int[] s : shapes) {
        w.add(m.randomNormal(0, 0.02f, new Shape(s[0], s[1]), t));
        x.add(m.randomNormal(0, 1, new Shape(tokens, s[1]), t));
        dy.add(m.randomNormal(0, 1, new Shape(tokens, s[0]), t));
      }
      NDArray q = m.randomNormal(0, 1, new Shape(batch, c.numHeads(), seq, c.headDim()), t);
      NDArray k = m.randomNormal(0, 1, new Shape(batch, c.numKvHeads(), seq, c.headDim()), t);
      NDArray v = m.randomNormal(0, 1, new Shape(batch, c.numKvHeads(), seq, c.headDim()), t);
      q.setRequiresGradient(true);
      k.setRequiresGradient(true);
      v.setRequiresGradient(true);
      NDArray head = m.randomNormal(0, 0.02f, new Shape(c.vocabSize(), h), t);
      NDArray hx = m.randomNormal(0, 1, new Shape(tokens, h), t);
      NDArray hdy = m.randomNormal(0, 1, new Shape(tokens, c.vocabSize()), t);
      AttentionMask causal = AttentionMask.build(m, batch, seq, null, null, 0, t);
      double gemm =
          median(
              m,
              () -> {
                for (int i = 0; i < w.size(); i++) {
                  Linear.linear(x.get(i), w.get(i)).singletonOrThrow();
                  dy.get(i).matMul(w.get(i));
                }
              });
      double attn =
          median(
              m,
              () -> {
                try (GradientCollector gc = engine().newGradientCollector()) {
                  gc.backward(kernel.attend(q, k, v, causal).sum());
                }
              });
      double lm =
          median(
              m,
              () -> {
                Linear.linear(hx, head).singletonOrThrow();
                hdy.matMul(head);
              });
      double total = c.numLayers() * (gemm + attn) + lm;
      print("matrix work: layer GEMMs fwd+dX", gemm, gemm, "ms");
      print("matrix work: attention fwd+bwd", attn, attn, "ms");
      print("matrix work: lm_head fwd+dX", lm, lm, "ms");
      print("matrix work: whole model", total, total, "ms");
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
  }

  /** Median finished ms of a workload over 15 runs after 3 warm-ups. */
  private static double median(NDManager m, Runnable f) {
    double[] ms = new double[15];
    for (int i = -3; i < ms.length; i++) {
      sync(m);
      long t0 = System.nanoTime();
      try (NDScope s = new NDScope()) {
        f.run();
      }
      sync(m);
      if (i >= 0) {
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
    }
    Arrays.sort(ms);
    return ms[ms.length / 2];
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
            new LlamaModel(
                c, base, RandomModels.randomWeights(c, base, Precisions.dataType(p), 1), kernel);
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
