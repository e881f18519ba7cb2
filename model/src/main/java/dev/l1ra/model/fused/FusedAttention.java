package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.AttentionMask;
import dev.l1ra.model.llama.LayerKernel;
import dev.l1ra.model.llama.PlainAttention;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Attention through PyTorch's fused {@code scaled_dot_product_attention}, called from a TorchScript
 * module that {@link TorchScriptArchive} writes and DJL loads (no Python). Agrees with {@code
 * PlainAttention} to fp32 rounding, outputs and gradients, for causal, padded and packed masks.
 *
 * <p>Two paths: a purely causal mask runs with {@code is_causal=True} and no mask tensor (the
 * kernel skips masked blocks); any other mask passes the additive mask with {@code
 * is_causal=False}, its fully masked rows (leading padding) opened up so no kernel sees a row
 * without keys (see {@link SdpaMasks#additiveWithoutEmptyRows}). Grouped-query heads use {@code
 * enable_gqa=True}; see {@link GroupedHeads} for when k/v are repeated first instead.
 *
 * <p>Autograd: the module runs without DJL's no-grad guard, so inside a {@code GradientCollector}
 * the call is recorded and {@code backward} reaches q, k and v (and whatever produced them).
 * Outputs belong to q's manager and the current NDScope. The module holds no tensors, so it runs on
 * whatever device its inputs are on. Calls are safe from several threads; the per-mask cache
 * assumes a mask is used by one thread (one training task per JVM). Close to free the module.
 */
public final class FusedAttention implements AttentionKernel, AutoCloseable {
  /** The TorchScript class loaded by DJL. */
  public static final String CLASS_NAME = "__torch__.l1ra.ScaledDotProductAttention";

  /** forward(q, k, v, mask=None): causal without a mask, else the mask (bool or additive). */
  static final String SOURCE =
      String.join(
          "\n",
          "def forward(self, q: Tensor, k: Tensor, v: Tensor,",
          "            mask: Optional[Tensor]=None) -> Tensor:",
          "    if mask is None:",
          "        out = torch.scaled_dot_product_attention(",
          "            q, k, v, None, 0.0, True, scale=None, enable_gqa=True)",
          "    else:",
          "        out = torch.scaled_dot_product_attention(",
          "            q, k, v, mask, 0.0, False, scale=None, enable_gqa=True)",
          "    return out");

  /** The archive this kernel loads. */
  public static final TorchScriptArchive ARCHIVE = TorchScriptArchive.module(CLASS_NAME, SOURCE);

  /** The MLP activation: forward(gate, up) = silu(gate)·up with the engine's native SiLU. */
  static final TorchScriptArchive SWIGLU_ARCHIVE =
      TorchScriptArchive.module(
          "__torch__.l1ra.SiluMul",
          String.join(
              "\n",
              "def forward(self, gate: Tensor, up: Tensor) -> Tensor:",
              "    return torch.mul(torch.silu(gate), up)"));

  /** How grouped-query heads (KV < H) reach the kernel. */
  public enum GroupedHeads {
    /**
     * {@code enable_gqa=True} on the original k/v: no copy; the backend handles the groups (CUDA
     * flash attention does) or falls back to its unfused math path (torch 2.7.1's CPU kernel).
     */
    NATIVE,
    /**
     * k/v repeated to H heads first (as transformers' repeat_kv; costs 2·B·H·T·D elements), so a
     * backend without grouped-query support still runs its fused kernel.
     */
    REPEAT,
    /** REPEAT for CPU tensors (measured 2x faster there), NATIVE elsewhere. */
    AUTO
  }

  /** What {@link #attend} derived from one mask object: the path and, if masked, the SDPA mask. */
  private record MaskForm(AttentionMask mask, boolean causalOnly, NDArray sdpaMask) {
    boolean isFor(AttentionMask m) {
      return mask == m && (sdpaMask == null || !sdpaMask.isReleased());
    }
  }

  private final GroupedHeads groupedHeads;
  private final TorchScriptModule sdpa;
  private final TorchScriptModule swiglu;
  private final AtomicReference<MaskForm> lastMask = new AtomicReference<>();
  private final ScriptedLayers layers;

  private FusedAttention(
      TorchScriptModule sdpa,
      TorchScriptModule swiglu,
      GroupedHeads groupedHeads,
      Device device,
      Path cacheDir,
      boolean wholeLayers) {
    this.groupedHeads = groupedHeads;
    this.sdpa = sdpa;
    this.swiglu = swiglu;
    this.layers = wholeLayers ? new ScriptedLayers(this, device, cacheDir) : null;
  }

  /**
   * Writes (or reuses) the archive in {@link TorchScriptArchive#defaultCacheDir()} and loads it.
   */
  public static FusedAttention load(Device device) {
    return load(device, TorchScriptArchive.defaultCacheDir(), GroupedHeads.AUTO);
  }

  /**
   * Writes (or reuses) the archive in {@code cacheDir}, loads it with DJL's PyTorch engine on
   * {@code device} and checks it against the plain kernel on a tiny input.
   *
   * @throws IllegalStateException naming the cause when the module does not load or disagrees
   */
  public static FusedAttention load(Device device, Path cacheDir, GroupedHeads groupedHeads) {
    return load(device, cacheDir, groupedHeads, true);
  }

  /**
   * As {@link #load(Device, Path, GroupedHeads)}; with {@code wholeLayers} decoder layers also run
   * as one TorchScript call each ({@link LayerKernel}), otherwise op by op around the attention and
   * SwiGLU calls.
   */
  public static FusedAttention load(
      Device device, Path cacheDir, GroupedHeads groupedHeads, boolean wholeLayers) {
    TorchScriptModule sdpa = null;
    TorchScriptModule swiglu = null;
    try {
      sdpa = TorchScriptModule.load(ARCHIVE, device, cacheDir);
      swiglu = TorchScriptModule.load(SWIGLU_ARCHIVE, device, cacheDir);
      FusedAttention kernel =
          new FusedAttention(sdpa, swiglu, groupedHeads, device, cacheDir, wholeLayers);
      SelfCheck.run(kernel, device);
      return kernel;
    } catch (IOException | MalformedModelException | RuntimeException e) {
      for (TorchScriptModule m : new TorchScriptModule[] {sdpa, swiglu}) {
        if (m != null) {
          m.close();
        }
      }
      throw new IllegalStateException(
          "fused attention is unavailable on "
              + device
              + " (DJL "
              + EngineInfo.djlVersion()
              + ", TorchScript cache "
              + cacheDir
              + "): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Fused attention under {@code mask}. A purely causal mask takes the {@code is_causal} path;
   * otherwise the additive mask is passed with fully masked rows opened up (see {@link
   * SdpaMasks#additiveWithoutEmptyRows}): every row that sees at least one key gets exactly what
   * the plain kernel gives, output and gradients.
   */
  @Override
  public NDArray attend(NDArray q, NDArray k, NDArray v, AttentionMask mask) {
    MaskForm form = form(mask);
    return form.causalOnly() ? attendCausal(q, k, v) : attendMasked(q, k, v, form.sdpaMask());
  }

  /**
   * Causal attention without a mask tensor ({@code is_causal=True}).
   *
   * @param q [B, H, T, D]
   * @param k [B, KV, T, D], H a multiple of KV
   * @param v [B, KV, T, D]
   * @return [B, H, T, D], owned by q's manager
   */
  public NDArray attendCausal(NDArray q, NDArray k, NDArray v) {
    checkShapes(q, k, v);
    long n = repeats(q, k);
    return call(new NDList(q, PlainAttention.repeatKv(k, n), PlainAttention.repeatKv(v, n)));
  }

  /**
   * Attention under an explicit mask ({@code is_causal=False}).
   *
   * @param mask [B, 1, T, T] (or broadcastable): boolean (true = may attend) or additive in q's
   *     dtype (0 allowed, a large negative value masked)
   * @return [B, H, T, D], owned by q's manager
   */
  public NDArray attendMasked(NDArray q, NDArray k, NDArray v, NDArray mask) {
    checkShapes(q, k, v);
    long n = repeats(q, k);
    return call(new NDList(q, PlainAttention.repeatKv(k, n), PlainAttention.repeatKv(v, n), mask));
  }

  /** How often to repeat each k/v head before the call: 1 when the kernel gets groups natively. */
  private long repeats(NDArray q, NDArray k) {
    return kvRepeats(q.getShape().get(1) / k.getShape().get(1), q.getDevice());
  }

  /** Repeats of each k/v head for {@code groups} query heads per k/v head on {@code device}. */
  long kvRepeats(long groups, Device device) {
    boolean repeat =
        groupedHeads == GroupedHeads.REPEAT
            || (groupedHeads == GroupedHeads.AUTO
                && Device.Type.CPU.equals(device.getDeviceType()));
    return repeat ? groups : 1;
  }

  /** The additive SDPA mask for a mask that is not purely causal (fully masked rows opened). */
  NDArray sdpaMask(AttentionMask mask) {
    return form(mask).sdpaMask();
  }

  @Override
  public LayerKernel layers() {
    return layers;
  }

  /** Layer configurations that ran as whole-layer scripts so far. */
  int scriptedLayerConfigs() {
    return layers == null ? 0 : layers.loaded();
  }

  /** Whether {@code mask} is purely causal (decided once per mask object). */
  boolean isCausalOnly(AttentionMask mask) {
    return form(mask).causalOnly();
  }

  /**
   * The path and SDPA mask for {@code mask}, derived once per mask object: every layer of a forward
   * pass shares one mask, so the check and the derived mask are paid once per batch. The derived
   * mask lives in the scope of the first call; if that scope has closed, it is derived again.
   */
  private MaskForm form(AttentionMask mask) {
    MaskForm last = lastMask.get();
    if (last != null && last.isFor(mask)) {
      return last;
    }
    boolean causal = mask.causalOnly();
    MaskForm form =
        new MaskForm(mask, causal, causal ? null : SdpaMasks.additiveWithoutEmptyRows(mask));
    lastMask.set(form);
    return form;
  }

  private NDArray call(NDList inputs) {
    return sdpa.call(inputs);
  }

  /**
   * silu(gate)·up with PyTorch's own SiLU: its backward keeps only its input, where the plain
   * x·sigmoid(x) keeps the sigmoid too — one [B, T, intermediate] tensor less per layer.
   */
  @Override
  public NDArray swiglu(NDArray gate, NDArray up) {
    return swiglu.call(new NDList(gate, up));
  }

  private static void checkShapes(NDArray q, NDArray k, NDArray v) {
    Shape qs = q.getShape();
    Shape ks = k.getShape();
    if (qs.dimension() != 4 || !ks.equals(v.getShape()) || ks.dimension() != 4) {
      throw new IllegalArgumentException(
          "attention wants q [B,H,T,D], k and v [B,KV,T,D]; got q "
              + qs
              + ", k "
              + ks
              + ", v "
              + v.getShape());
    }
    if (qs.get(0) != ks.get(0) || qs.get(3) != ks.get(3) || qs.get(1) % ks.get(1) != 0) {
      throw new IllegalArgumentException(
          "attention shapes disagree: q " + qs + " vs k/v " + ks + " (H must be a multiple of KV)");
    }
  }

  public GroupedHeads groupedHeads() {
    return groupedHeads;
  }

  /** The archive file this kernel was loaded from. */
  public Path archive() {
    return sdpa.file();
  }

  @Override
  public String name() {
    return "fused";
  }

  @Override
  public void close() {
    if (layers != null) {
      layers.close();
    }
    lastMask.set(null);
    sdpa.close();
    swiglu.close();
  }

  @Override
  public String toString() {
    return "FusedAttention[" + groupedHeads + ", " + sdpa.file() + "]";
  }
}
