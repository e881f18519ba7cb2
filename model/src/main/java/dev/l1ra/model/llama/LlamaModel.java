package dev.l1ra.model.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.safetensors.ShardedCheckpoint;
import dev.l1ra.core.safetensors.TensorSource;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.engine.Precisions;
import dev.l1ra.model.engine.Seeds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-family decoder (Llama 3.x, Mistral, Qwen2) on DJL NDArrays, computing what transformers
 * computes: embeddings, per layer RMSNorm → grouped-query attention with RoPE → residual → RMSNorm
 * → SwiGLU MLP → residual, a final RMSNorm and the lm_head. Frozen weights live in the model's
 * manager; everything a forward pass creates belongs to the caller's scope.
 */
public final class LlamaModel implements AutoCloseable {
  private final ModelConfig config;
  private final NDManager manager;
  private final LlamaWeights weights;
  private final Rope rope;
  private final AttentionKernel attention;

  public LlamaModel(
      ModelConfig config, NDManager manager, LlamaWeights weights, AttentionKernel attention) {
    this.config = config;
    this.manager = manager;
    this.weights = weights;
    this.rope = new Rope(config, manager);
    this.attention = attention;
  }

  /** Loads a Hugging Face model folder (config.json + safetensors) onto a device. */
  public static LlamaModel load(
      Path dir, Device device, Precision precision, AttentionKernel attention) {
    ModelConfig config = ModelConfigs.load(dir);
    EngineInfo.engine(); // fixes the thread count (reproducible BLAS) before any work
    NDManager manager = NDManager.newBaseManager(device, "PyTorch");
    try (TensorSource source = ShardedCheckpoint.openModelDir(dir)) {
      LlamaWeights w = LlamaWeights.load(source, config, manager, Precisions.dataType(precision));
      return new LlamaModel(config, manager, w, attention);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  public ModelConfig config() {
    return config;
  }

  /** The manager holding the frozen weights; adapters usually live in a sub-manager of it. */
  public NDManager manager() {
    return manager;
  }

  public LlamaWeights weights() {
    return weights;
  }

  public DataType dataType() {
    return weights.dataType();
  }

  public Device device() {
    return weights.device();
  }

  public AttentionKernel attention() {
    return attention;
  }

  /** Logits [B, T, V] in the compute dtype. */
  public NDArray logits(Batch batch, AdapterSet adapters, boolean training) {
    return lmHead(hidden(context(batch, adapters, training, -1), batch));
  }

  /**
   * Logits with LoRA dropout masks drawn from {@code dropoutSeed} (per layer: see {@link #layer}).
   */
  public NDArray logits(Batch batch, AdapterSet adapters, boolean training, long dropoutSeed) {
    return lmHead(hidden(context(batch, adapters, training, dropoutSeed), batch));
  }

  /** Final hidden states [B, T, hidden] after the last RMSNorm. */
  public NDArray hidden(LayerContext ctx, Batch batch) {
    NDArray h = embed(batch);
    for (int i = 0; i < config.numLayers(); i++) {
      int layer = i;
      NDArray in = h;
      h = Ops.scoped(() -> layer(layer, in, ctx)); // a layer's intermediates die with it
    }
    return finalNorm(h);
  }

  /** Token embeddings [B, T, hidden]. */
  public NDArray embed(Batch batch) {
    return Embedding.embedding(batch.inputIds(), weights.embed(), SparseFormat.DENSE)
        .singletonOrThrow();
  }

  /** Per-batch state every layer shares: rotary tables, mask, adapters, mode. */
  /**
   * @param dropoutSeed when ≥ 0 and dropout is active, each layer re-seeds the engine generator
   *     from (seed, layer) before it runs, so a layer recomputed later draws the same masks
   */
  public record LayerContext(
      NDArray cos,
      NDArray sin,
      AttentionMask mask,
      AdapterSet adapters,
      boolean training,
      long dropoutSeed) {}

  public LayerContext context(
      Batch batch, AdapterSet adapters, boolean training, long dropoutSeed) {
    NDManager m = batch.inputIds().getManager();
    NDList cs = rope.cosSin(batch.positions(), dataType());
    AttentionMask mask =
        AttentionMask.build(
            m,
            batch.size(),
            batch.seqLen(),
            batch.keep(),
            batch.segments(),
            config.slidingWindow(),
            dataType());
    return new LayerContext(cs.get(0), cs.get(1), mask, adapters, training, dropoutSeed);
  }

  /** One decoder layer: h [B, T, hidden] → [B, T, hidden]. */
  public NDArray layer(int i, NDArray h, LayerContext ctx) {
    if (ctx.dropoutSeed() >= 0
        && ctx.training()
        && ctx.adapters() != null
        && ctx.adapters().dropout() > 0) {
      EngineInfo.engine().setRandomSeed(Seeds.mix(ctx.dropoutSeed(), i));
    }
    LayerKernel fused = attention.layers();
    NDArray out = fused == null ? null : fused.layer(this, i, h, ctx);
    return out != null ? out : layerOps(i, h, ctx);
  }

  /** {@link #layer} op by op: the reference path. */
  NDArray layerOps(int i, NDArray h, LayerContext ctx) {
    LayerWeights w = weights.layers().get(i);
    NDArray x = rmsNorm(h, w.inputNorm(), config.rmsNormEps());
    h = h.add(selfAttention(i, x, w, ctx));
    x = rmsNorm(h, w.postAttentionNorm(), config.rmsNormEps());
    NDList gu = Projections.group(i, Projections.GATE_UP, w.gateUp(), x, w, ctx);
    NDArray act = attention.swiglu(gu.get(0), gu.get(1));
    return h.add(Projections.single(i, LinearKind.DOWN, act, w, ctx));
  }

  private NDArray selfAttention(int i, NDArray x, LayerWeights w, LayerContext ctx) {
    Shape s = x.getShape();
    long b = s.get(0);
    long t = s.get(1);
    int d = config.headDim();
    // [B,T,H*D] -> [B,T,H,D] -> [B,H,T,D]
    NDList qkv = Projections.group(i, Projections.QKV, w.qkv(), x, w, ctx);
    NDArray q = qkv.get(0).reshape(b, t, config.numHeads(), d).transpose(0, 2, 1, 3);
    NDArray k = qkv.get(1).reshape(b, t, config.numKvHeads(), d).transpose(0, 2, 1, 3);
    NDArray v = qkv.get(2).reshape(b, t, config.numKvHeads(), d).transpose(0, 2, 1, 3);
    q = Rope.apply(q, ctx.cos(), ctx.sin());
    k = Rope.apply(k, ctx.cos(), ctx.sin());
    NDArray o = attention.attend(q, k, v, ctx.mask()); // [B,H,T,D]
    o = o.transpose(0, 2, 1, 3).reshape(b, t, (long) config.numHeads() * d); // [B,T,H*D]
    return Projections.single(i, LinearKind.O, o, w, ctx);
  }

  /** The last RMSNorm. */
  public NDArray finalNorm(NDArray h) {
    return rmsNorm(h, weights.finalNorm(), config.rmsNormEps());
  }

  /** lm_head: hidden [..., H] → logits [..., V]. */
  public NDArray lmHead(NDArray hidden) {
    return Linear.project(hidden, weights.lmHead());
  }

  /**
   * RMSNorm as transformers computes it: in float32, x·rsqrt(mean(x²) + eps), cast back, times the
   * weight. x [..., H].
   */
  public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
    DataType t = x.getDataType();
    NDArray x32 = Ops.castWithGrad(x, DataType.FLOAT32);
    NDArray meanSquare = x32.square().mean(new int[] {x32.getShape().dimension() - 1}, true);
    NDArray inv = Ops.pow(Ops.add(meanSquare, eps), -0.5);
    NDArray normed = Ops.castWithGrad(x32.mul(inv), t);
    return weight.mul(normed);
  }

  /**
   * A new model whose projection weights have the adapters merged in (W + s·B·diag(c)·A), as PEFT's
   * {@code merge_and_unload}. The copy has its own manager; this model is unchanged.
   */
  public LlamaModel withMergedAdapters(AdapterSet adapters) {
    NDManager m = NDManager.newBaseManager(device(), "PyTorch");
    List<LayerWeights> layers = new ArrayList<>();
    for (int i = 0; i < config.numLayers(); i++) {
      LayerWeights w = weights.layers().get(i);
      Map<LinearKind, Linear> proj = new EnumMap<>(LinearKind.class);
      for (LinearKind k : LinearKind.values()) {
        Linear l = w.projection(k);
        NDArray weight = l.weight().duplicate();
        Adapter a = adapters.getOrNull(new ModuleId(i, k));
        if (a != null) {
          try (NDArray delta = a.mergedWeight()) {
            NDArray merged = weight.add(delta.toType(weight.getDataType(), false));
            weight.close();
            weight = merged;
          }
        }
        weight.attach(m);
        proj.put(k, new Linear(weight, copy(l.bias(), m)));
      }
      layers.add(new LayerWeights(copy(w.inputNorm(), m), copy(w.postAttentionNorm(), m), proj));
    }
    NDArray embed = copy(weights.embed(), m);
    NDArray head = weights.lmHead() == weights.embed() ? embed : copy(weights.lmHead(), m);
    LlamaWeights merged =
        new LlamaWeights(config, embed, List.copyOf(layers), copy(weights.finalNorm(), m), head);
    return new LlamaModel(config, m, merged, attention);
  }

  private static NDArray copy(NDArray x, NDManager m) {
    if (x == null) {
      return null;
    }
    NDArray c = x.duplicate();
    c.attach(m);
    return c;
  }

  @Override
  public void close() {
    manager.close();
  }
}
