package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.List;

/**
 * One adapter variant on one frozen linear module: it adds a low-rank update to the module's
 * output. Variants (LoRA, gated LoRA for L1RA, AdaLoRA's SVD form) implement this interface.
 */
public interface Adapter extends AutoCloseable {

  ModuleId id();

  /** Current shape, rank, alpha and scaling rule. */
  AdapterSpec spec();

  /**
   * The update ΔW·x for input x.
   *
   * @param x [..., in] module input in the compute dtype (dropout already applied if any)
   * @return [..., out] in the compute dtype; a new array in the current scope
   */
  NDArray delta(NDArray x);

  /** Ranks in use (AdaLoRA: unmasked triplets; otherwise the rank). */
  default int effectiveRank() {
    return spec().rank();
  }

  /** Trainable leaves (fp32 master weights), in a fixed order. */
  List<TrainableParam> trainable();

  /**
   * The dense update s·ΔW [out, in] in fp32 (gates folded in), for merging into the base weight.
   */
  NDArray mergedWeight();

  /** Releases the adapter's arrays. */
  @Override
  void close();
}
