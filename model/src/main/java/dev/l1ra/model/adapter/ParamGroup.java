package dev.l1ra.model.adapter;

/** Optimizer parameter groups: adapter matrices, and L1RA gates (own lr, no decay, L1 step). */
public enum ParamGroup {
  /** LoRA A and B (and AdaLoRA's P, Q): AdamW with the main schedule and weight decay. */
  MATRIX,
  /** L1RA gates c: constant learning rate η_c, no weight decay, decoupled L1 shrink. */
  GATE,
  /** AdaLoRA singular values E: the main schedule, no weight decay. */
  SINGULAR
}
