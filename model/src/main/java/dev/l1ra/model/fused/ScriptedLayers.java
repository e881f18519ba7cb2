package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.jni.JniUtils;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.llama.LayerKernel;
import dev.l1ra.model.llama.LayerWeights;
import dev.l1ra.model.llama.Linear;
import dev.l1ra.model.llama.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decoder layers as one TorchScript call each ({@link LayerScript}): the module for a layer's
 * configuration is written and loaded on first use and cached. Autograd records every operation
 * inside, as it records the op-by-op path. On the CPU TorchScript's graph optimizer is switched off
 * on the calling thread, so no operation is fused or reordered (same numbers, same saved tensors);
 * on GPUs it is on and fuses element-wise chains ({@link #graphOptimizer}).
 */
final class ScriptedLayers implements LayerKernel {
  /** Whether this thread's graph-executor flag (a per-thread engine setting) is known off. */
  private static final ThreadLocal<Boolean> PLAIN = ThreadLocal.withInitial(() -> false);

  /** System property that overrides the device's default: {@code true} or {@code false}. */
  static final String GRAPH_OPTIMIZER_PROPERTY = "l1ra.layers.graphOptimizer";

  private final FusedAttention attention;
  private final Device device;
  private final Path cacheDir;
  private final Map<String, TorchScriptModule> modules = new ConcurrentHashMap<>();
  private final boolean graphOptimizer;

  ScriptedLayers(FusedAttention attention, Device device, Path cacheDir) {
    this.attention = attention;
    this.device = device;
    this.cacheDir = cacheDir;
    this.graphOptimizer = graphOptimizer(device);
  }

  /**
   * Whether layer scripts run under TorchScript's profiling graph executor: on GPUs by default (it
   * fuses the element-wise chains of RMSNorm, RoPE, SwiGLU and the adapters' scaling into a few
   * kernels and differentiates them symbolically: ~10 % faster steps at 8B micro-batch 4), never by
   * default on the CPU, where the interpreter alone keeps every operation the op-by-op path's and
   * results bit-identical to it. {@value #GRAPH_OPTIMIZER_PROPERTY} overrides either way.
   */
  static boolean graphOptimizer(Device device) {
    String p = System.getProperty(GRAPH_OPTIMIZER_PROPERTY);
    return p == null || p.isBlank() ? device.isGpu() : Boolean.parseBoolean(p.trim());
  }

  @Override
  public NDArray layer(LlamaModel model, int i, NDArray h, LlamaModel.LayerContext ctx) {
    LayerWeights w = model.weights().layers().get(i);
    ModelConfig c = model.config();
    Adapter[] ads = adapters(i, ctx.adapters());
    boolean masked = !attention.isCausalOnly(ctx.mask());
    float dropout =
        ctx.training() && ctx.adapters() != null ? (float) ctx.adapters().dropout() : 0f;
    LayerScript.Signature s = signature(c, w, ads, dropout, masked, h.getDevice());
    TorchScriptModule m = module(s);
    NDList in = new NDList(h, ctx.cos(), ctx.sin());
    if (masked) {
      in.add(attention.sdpaMask(ctx.mask()));
    }
    in.add(Ops.constant(h, (float) c.rmsNormEps()));
    in.add(Ops.constant(h, -0.5f));
    in.add(w.inputNorm());
    in.add(w.postAttentionNorm());
    addWeights(in, s, w);
    for (Adapter a : ads) {
      if (a != null) {
        in.add(a.down());
        in.add(a.up());
        if (a.mid() != null) {
          in.add(a.mid());
        }
        in.add(Ops.constant(h, a.scale()));
      }
    }
    if (!graphOptimizer) {
      plainExecutor();
      return m.call(in);
    }
    // the flag is per thread: the optimizer's and the other kernels' scripts keep running plain
    JniUtils.setGraphExecutorOptimize(true);
    try {
      return m.call(in);
    } finally {
      JniUtils.setGraphExecutorOptimize(false);
      PLAIN.set(true);
    }
  }

  private static Adapter[] adapters(int layer, AdapterSet set) {
    Adapter[] out = new Adapter[LinearKind.values().length];
    if (set != null) {
      for (LinearKind k : LinearKind.values()) {
        out[k.ordinal()] = set.getOrNull(new ModuleId(layer, k));
      }
    }
    return out;
  }

  private LayerScript.Signature signature(
      ModelConfig c, LayerWeights w, Adapter[] ads, float dropout, boolean masked, Device on) {
    int n = ads.length;
    boolean[] adapted = new boolean[n];
    boolean[] mid = new boolean[n];
    boolean[] biased = new boolean[n];
    boolean[] batches = new boolean[n];
    for (LinearKind k : LinearKind.values()) {
      int j = k.ordinal();
      adapted[j] = ads[j] != null;
      mid[j] = adapted[j] && ads[j].mid() != null;
      batches[j] = adapted[j] && ads[j].batchesDown();
      biased[j] = w.projection(k).bias() != null;
    }
    long repeat = attention.kvRepeats(c.numHeads() / c.numKvHeads(), on);
    return new LayerScript.Signature(
        adapted,
        mid,
        biased,
        batches,
        w.qkv() != null,
        w.gateUp() != null,
        dropout,
        masked,
        (int) repeat,
        c.numHeads(),
        c.numKvHeads(),
        c.headDim(),
        c.intermediateSize());
  }

  private static void addWeights(NDList in, LayerScript.Signature s, LayerWeights w) {
    if (s.fusedQkv()) {
      add(in, w.qkv());
    } else {
      for (LinearKind k : LayerScript.QKV) {
        add(in, w.projection(k));
      }
    }
    add(in, w.projection(LinearKind.O));
    if (s.fusedGateUp()) {
      add(in, w.gateUp());
    } else {
      for (LinearKind k : LayerScript.GATE_UP) {
        add(in, w.projection(k));
      }
    }
    add(in, w.projection(LinearKind.DOWN));
  }

  private static void add(NDList in, Linear l) {
    in.add(l.weight());
    if (l.bias() != null) {
      in.add(l.bias());
    }
  }

  private TorchScriptModule module(LayerScript.Signature s) {
    return modules.computeIfAbsent(s.key(), k -> load(s));
  }

  private TorchScriptModule load(LayerScript.Signature s) {
    TorchScriptArchive archive =
        TorchScriptArchive.module(
            "__torch__.l1ra.layer.L" + Integer.toHexString(s.key().hashCode()),
            LayerScript.source(s));
    try {
      return TorchScriptModule.load(archive, device, cacheDir);
    } catch (IOException | MalformedModelException e) {
      throw new IllegalStateException(
          "the fused decoder layer " + s.key() + " does not load: " + e.getMessage(), e);
    }
  }

  /** Interpreter only, no graph specialisation: autograd sees exactly the eager operations. */
  private static void plainExecutor() {
    if (!PLAIN.get()) {
      JniUtils.setGraphExecutorOptimize(false);
      PLAIN.set(true);
    }
  }

  /** How many layer configurations have a loaded module (for tests and logs). */
  int loaded() {
    return modules.size();
  }

  /** Frees the loaded modules. */
  void close() {
    modules.values().forEach(TorchScriptModule::close);
    modules.clear();
  }
}
