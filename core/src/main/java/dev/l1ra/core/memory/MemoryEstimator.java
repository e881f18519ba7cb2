package dev.l1ra.core.memory;

import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.function.IntFunction;

/**
 * Analytic peak device memory of one training worker, in bytes, for this project's engine (not for
 * Hugging Face's): what each op of the decoder saves for backward in {@code LlamaModel}, plus the
 * largest transient of the backward pass. In the spirit of MEMORY-GELATO (weights + trainable state
 * + saved activations + logits + the worst transient), re-derived for our ops: no quantisation;
 * fp32 adapter master weights and gradients on the worker; AdamW moments on the driver (host
 * memory, reported separately); fp16 computes RMSNorm and softmax in fp32 copies.
 *
 * <p>Notation below: N = micro_batch·seq tokens, e = bytes per compute element, h hidden, f MLP
 * intermediate, q = heads·head_dim, kv = kv_heads·head_dim, V vocabulary, L layers.
 */
public final class MemoryEstimator {
  private MemoryEstimator() {}

  /**
   * What the estimate depends on.
   *
   * @param model the base model's shape
   * @param computeBytes 4 (fp32) or 2 (fp16)
   * @param layout the adapters (ranks per module)
   * @param gated L1RA gates or AdaLoRA singular values (one more vector of r per adapter, and one
   *     more [N, r] activation)
   * @param microBatch samples per forward/backward
   * @param seqLen tokens per sample (the padded length of a micro-batch)
   * @param recompute layer-wise activation recomputation
   * @param fused fused attention and SwiGLU (TorchScript SDPA) instead of plain ops
   * @param repeatKv grouped-query k/v repeated to all heads before attention (plain ops always; the
   *     fused kernel on CPU)
   * @param dropout LoRA dropout probability (> 0 keeps a dropped copy of each adapter's input)
   * @param optimizerOnDevice the worker keeps AdamW's moments (and a rank controller's per-element
   *     state) on its device, as a local or rounds-mode worker does; the synchronous Spark mode
   *     keeps them on the driver
   * @param gpu the worker is a GPU: add {@link #GPU_RUNTIME} for what the CUDA runtime and the
   *     caching allocator hold beyond the tensors
   */
  public record Setup(
      ModelConfig model,
      int computeBytes,
      AdapterLayout layout,
      boolean gated,
      int microBatch,
      int seqLen,
      boolean recompute,
      boolean fused,
      boolean repeatKv,
      double dropout,
      boolean optimizerOnDevice,
      boolean gpu) {
    /** A worker without device-side optimizer state, on the CPU. */
    public Setup(
        ModelConfig model,
        int computeBytes,
        AdapterLayout layout,
        boolean gated,
        int microBatch,
        int seqLen,
        boolean recompute,
        boolean fused,
        boolean repeatKv,
        double dropout) {
      this(
          model,
          computeBytes,
          layout,
          gated,
          microBatch,
          seqLen,
          recompute,
          fused,
          repeatKv,
          dropout,
          false,
          false);
    }

    public Setup {
      if (computeBytes != 2 && computeBytes != 4) {
        throw new IllegalArgumentException("computeBytes must be 2 (fp16) or 4 (fp32)");
      }
      if (microBatch < 1 || seqLen < 1) {
        throw new IllegalArgumentException(
            "micro batch and sequence length must be >= 1, got " + microBatch + ", " + seqLen);
      }
    }

    public Setup withMicroBatch(int b) {
      return new Setup(
          model,
          computeBytes,
          layout,
          gated,
          b,
          seqLen,
          recompute,
          fused,
          repeatKv,
          dropout,
          optimizerOnDevice,
          gpu);
    }

    public Setup withRecompute(boolean r) {
      return new Setup(
          model,
          computeBytes,
          layout,
          gated,
          microBatch,
          seqLen,
          r,
          fused,
          repeatKv,
          dropout,
          optimizerOnDevice,
          gpu);
    }

    public Setup withLayout(AdapterLayout l) {
      return new Setup(
          model,
          computeBytes,
          l,
          gated,
          microBatch,
          seqLen,
          recompute,
          fused,
          repeatKv,
          dropout,
          optimizerOnDevice,
          gpu);
    }

    /** The same worker with AdamW state on its device (or not) and on a GPU (or not). */
    public Setup on(boolean optimizerOnDevice, boolean gpu) {
      return new Setup(
          model,
          computeBytes,
          layout,
          gated,
          microBatch,
          seqLen,
          recompute,
          fused,
          repeatKv,
          dropout,
          optimizerOnDevice,
          gpu);
    }

    long tokens() {
      return (long) microBatch * seqLen;
    }

    /** Trainable parameters: r·(in + out) per adapter, plus r gate values with L1RA. */
    long adapterParameters() {
      return layout.parameters() + (gated ? layout.totalRank() : 0);
    }
  }

  /**
   * What a GPU worker holds beyond its tensors: the CUDA context, cuBLAS/cuDNN workspaces and
   * kernel images, and the caching allocator's rounding and cached blocks. Calibrated on an H100
   * and an H200 (PyTorch 2.11, CUDA 13) against nvidia-smi's peak for Llama-3.2-1B and 3.1-8B
   * shapes, micro-batches 1 to 8, with and without recomputation (README, "Memory estimate").
   */
  public static final long GPU_RUNTIME = (long) (1.3 * (1L << 30));

  /** The estimate for {@code s}. */
  public static MemoryEstimate estimate(Setup s) {
    ModelConfig c = s.model();
    int e = s.computeBytes();
    long n = s.adapterParameters();
    long layer = layerActivations(s);
    long inputs = s.tokens() * c.hiddenSize() * e; // a layer's input (the residual stream)
    // with recomputation the forward keeps only layer inputs; a layer's saved tensors exist only
    // while that layer is recomputed for its backward, after the loss's tensors are gone
    long saved = s.recompute() ? c.numLayers() * inputs : c.numLayers() * layer;
    long layerPhase = layerBackward(s) + (s.recompute() ? layer : 0);
    return new MemoryEstimate(
        c.baseParameters() * e,
        4 * n + (e < 4 ? 2 * n : 0), // fp32 master weights (+ fp16 copies in the graph)
        4 * n, // fp32 gradients, accumulated over micro-batches
        saved + context(s),
        logitsSaved(s),
        logitsBackward(s),
        layerPhase,
        s.optimizerOnDevice() ? optimizerState(s) : 0,
        s.gpu() ? GPU_RUNTIME : 0,
        s.optimizerOnDevice() ? 0 : 12 * n); // driver: AdamW m and v, master weights (fp32)
  }

  /** AdamW's two fp32 moments per trainable value and its per-rank step counts (3 shapes). */
  private static long optimizerState(Setup s) {
    long n = s.adapterParameters();
    return 8 * n + 4L * s.layout().totalRank() * 3;
  }

  /**
   * Tensors one decoder layer saves for backward, in bytes. PyTorch saves an op's input only when
   * the gradient of another input needs it (checked on this engine: x·c and x·Wᵀ with a frozen c or
   * W keep nothing of x), so frozen projections, RoPE's products and the residual adds save
   * nothing; what is left is listed term by term.
   */
  static long layerActivations(Setup s) {
    ModelConfig c = s.model();
    long tok = s.tokens();
    int e = s.computeBytes();
    long h = c.hiddenSize();
    long q = (long) c.numHeads() * c.headDim();
    boolean repeat = s.repeatKv() && c.numHeads() > c.numKvHeads();
    long kv = repeat ? q : (long) c.numKvHeads() * c.headDim(); // k and v as attention sees them
    long norms = 2 * tok * h * (4 + e); // both RMSNorms: fp32 input (a copy in fp16), output
    long qkv = tok * (q + 2 * kv) * e; // rotated q, k and v (repeated k, v when repeated)
    long attention =
        s.fused()
            ? tok * q * e + (long) s.microBatch() * c.numHeads() * s.seqLen() * 4 // out, logsumexp
            : scores(s) * (e + (e < 4 ? 4 : 0)); // softmax output (an fp32 one too in fp16)
    long oInput = tok * q * e; // the attention output made contiguous, o_proj's LoRA input
    long mlp = tok * c.intermediateSize() * e * (s.fused() ? 4 : 5); // gate, up, (σ), silu, act
    // fused layers on a GPU run under TorchScript's graph optimizer, whose fused RMSNorms keep an
    // fp32 hidden-size tensor more per token (measured on an H100: +0.5 GiB per 1024-token sample
    // at 8B, README "Memory estimate")
    long optimizedGraph = s.fused() && s.gpu() ? tok * h * 4 : 0;
    return norms + qkv + attention + oInput + mlp + optimizedGraph + loraActivations(s);
  }

  /** Per layer: h·Aᵀ (and h·Aᵀ·c) of each adapter; a dropped copy of each input with dropout. */
  private static long loraActivations(Setup s) {
    long rank = 0;
    long inputs = 0;
    for (AdapterSpec a : s.layout().specs()) {
      rank += a.rank();
      inputs += a.in();
    }
    int layers = s.model().numLayers();
    int e = s.computeBytes();
    long down = s.tokens() * rank * e * (s.gated() ? 2 : 1);
    long dropped = s.dropout() > 0 ? s.tokens() * inputs * (e + 1) : 0; // values + bool mask
    return (down + dropped) / layers; // the layout spans all layers; this is a mean layer
  }

  /**
   * Per-batch tensors every layer's backward needs: rotary cos/sin, and with the fused kernel the
   * padding mask it saves (plain attention adds the mask, which saves nothing).
   */
  private static long context(Setup s) {
    int e = s.computeBytes();
    long rope = 2 * s.tokens() * s.model().headDim() * e;
    long mask = s.fused() ? (long) s.microBatch() * s.seqLen() * s.seqLen() * e : 0;
    return rope + mask;
  }

  /** Attention score elements of one layer: micro_batch·heads·seq². */
  private static long scores(Setup s) {
    return (long) s.microBatch() * s.model().numHeads() * s.seqLen() * s.seqLen();
  }

  /** Saved by the loss: fp32 log-softmax over the vocabulary; the final norm's fp32 input. */
  private static long logitsSaved(Setup s) {
    long tok = s.tokens();
    return tok * s.model().vocabSize() * 4 + tok * s.model().hiddenSize() * 4;
  }

  /** Extra at the loss's backward: the gradients of log-probabilities and logits (fp32, + fp16). */
  private static long logitsBackward(Setup s) {
    return s.tokens() * s.model().vocabSize() * (8L + (s.computeBytes() < 4 ? 2 : 0));
  }

  /** Extra while a layer runs backward: the larger of attention's and the MLP's gradients. */
  private static long layerBackward(Setup s) {
    ModelConfig c = s.model();
    long tok = s.tokens();
    int e = s.computeBytes();
    long q = (long) c.numHeads() * c.headDim();
    long attention =
        s.fused()
            ? 3 * tok * q * e // dq, dk, dv
            : scores(s) * (e < 4 ? 10 : 8); // d softmax output and d scores (fp32 in fp16 runs)
    long mlp = 3 * tok * c.intermediateSize() * e; // d gate, d up, d product
    long upstream = 2 * tok * c.hiddenSize() * e; // gradient in, gradient out
    return Math.max(attention, mlp) + upstream;
  }

  /**
   * The largest micro-batch in [1, max] whose estimate fits {@code budget}, or 0 if even 1 does
   * not.
   */
  public static int largestMicroBatch(Setup s, Budget budget, int max) {
    return largest(max, b -> estimate(s.withMicroBatch(b)), budget);
  }

  /**
   * The largest rank r in [1, max] such that the layout {@code layoutForRank(r)} fits {@code
   * budget}, or 0 if even r = 1 does not.
   */
  public static int largestRank(
      Setup s, IntFunction<AdapterLayout> layoutForRank, Budget budget, int max) {
    return largest(max, r -> estimate(s.withLayout(layoutForRank.apply(r))), budget);
  }

  /** Binary search for the largest x in [1, max] that fits (the estimate grows with x). */
  private static int largest(int max, IntFunction<MemoryEstimate> at, Budget budget) {
    if (max < 1) {
      throw new IllegalArgumentException("search bound must be >= 1, got " + max);
    }
    int lo = 0;
    int hi = max;
    while (lo < hi) {
      int mid = lo + (hi - lo + 1) / 2;
      if (budget.fits(at.apply(mid))) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
