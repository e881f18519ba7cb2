package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.model.engine.Ops;
import java.util.List;

/**
 * One adapter variant on one frozen linear module: it adds a low-rank update to the module's
 * output. Every variant is factored as ΔW·x = s·((x·Dᵀ) ⊙ g)·Uᵀ with a down-projection D [r, in],
 * an optional per-rank vector g [r] (L1RA's gate, AdaLoRA's singular values), an up-projection U
 * [out, r] and a scaling s; so projections that share an input may compute their down-projections
 * in one matmul, and a fused layer can run any variant. Variants (LoRA, gated LoRA for L1RA,
 * AdaLoRA's SVD form) implement this interface and state their own facts: callers never ask for the
 * concrete class.
 */
public interface Adapter extends AutoCloseable {

  ModuleId id();

  /** Current shape, rank, alpha and scaling rule. */
  AdapterSpec spec();

  /** The down-projection D [r, in] (fp32 master weights): lora_A, or AdaLoRA's Q. */
  NDArray down();

  /** The per-rank vector g [r] between the projections (fp32), or null when there is none. */
  NDArray mid();

  /** The up-projection U [out, r] (fp32 master weights): lora_B, or AdaLoRA's P. */
  NDArray up();

  /** The scaling s of the update. */
  float scale();

  /**
   * The update from the down-projection h = x·Dᵀ [..., r] (computed by {@link #delta} or, for
   * adapters that share an input, by one fused matmul): s·(h ⊙ g)·Uᵀ.
   *
   * @return [..., out] in h's dtype; a new array in the current scope
   */
  default NDArray fromDown(NDArray h) {
    DataType t = h.getDataType();
    NDArray g = mid();
    NDArray x = g == null ? h : h.mul(Ops.castWithGrad(g, t));
    NDArray y = Linear.linear(x, Ops.castWithGrad(up(), t)).singletonOrThrow(); // [..., out]
    return Ops.mul(y, scale());
  }

  /**
   * The update ΔW·x for input x.
   *
   * @param x [..., in] module input in the compute dtype (dropout already applied if any)
   * @return [..., out] in the compute dtype; a new array in the current scope
   */
  default NDArray delta(NDArray x) {
    NDArray d = Ops.castWithGrad(down(), x.getDataType());
    return fromDown(Linear.linear(x, d).singletonOrThrow());
  }

  /**
   * Whether this adapter's down-projection may be computed in one matmul with those of other
   * adapters on the same input (the concatenated weight gives the same values up to rounding).
   */
  default boolean batchesDown() {
    return true;
  }

  /** The L1RA gate c [r] (fp32 leaf), or null when this variant has none. */
  default NDArray gate() {
    return null;
  }

  /** Ranks in use (AdaLoRA: unmasked triplets; otherwise the rank). */
  default int effectiveRank() {
    return spec().rank();
  }

  /** Trainable leaves (fp32 master weights), in a fixed order. */
  List<TrainableParam> trainable();

  /** How to rebuild this adapter from its tensors (checkpoints, broadcast to executors). */
  AdapterEntry entry();

  /**
   * The same update as plain LoRA (A, B; gates folded into B), for PEFT export and PARA. LoRA
   * returns itself; other variants build a new adapter whose arrays belong to {@code manager}.
   */
  LoraAdapter asLora(NDManager manager);

  /**
   * The dense update s·ΔW [out, in] in fp32 (gates folded in), for merging into the base weight.
   */
  NDArray mergedWeight();

  /** Releases the adapter's arrays. */
  @Override
  void close();
}
