package dev.l1ra.core.memory;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Peak device memory of one training worker, by term, in bytes (see {@link MemoryEstimator}).
 *
 * @param weights base model weights in the compute dtype
 * @param adapters fp32 adapter master weights (+ their fp16 copies in fp16 runs)
 * @param gradients fp32 adapter gradients
 * @param activations tensors the forward saves for backward, plus per-batch rotary tables and mask
 * @param logits what the loss saves (fp32 log-probabilities over the vocabulary)
 * @param lossBackward extra at the loss's backward (vocabulary-sized gradients)
 * @param layerBackward extra while one layer runs backward (with recomputation, including that
 *     layer's recomputed activations)
 * @param optimizer AdamW's moments and step counts when the worker keeps them on its device
 * @param runtime what the device's runtime holds beyond the tensors (CUDA context, workspaces,
 *     allocator caching); 0 on the CPU
 * @param driverHost the driver's optimizer state (AdamW moments and master weights, host memory),
 *     when the driver runs the optimizer
 */
public record MemoryEstimate(
    long weights,
    long adapters,
    long gradients,
    long activations,
    long logits,
    long lossBackward,
    long layerBackward,
    long optimizer,
    long runtime,
    long driverHost) {

  /** Memory that stays for the whole step: weights, adapters, gradients, optimizer, runtime. */
  public long persistent() {
    return weights + adapters + gradients + optimizer + runtime;
  }

  /**
   * The peak: everything the layers saved, plus the larger of the loss's backward (its saved
   * log-probabilities and their gradients) and a layer's backward (the loss's tensors are gone by
   * then).
   */
  public long peak() {
    return persistent() + activations + Math.max(logits + lossBackward, layerBackward);
  }

  /** The terms by name (for tables and report.json), the peak last. */
  public Map<String, Long> terms() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("weights", weights);
    m.put("adapters", adapters);
    m.put("gradients", gradients);
    m.put("optimizer", optimizer);
    m.put("runtime", runtime);
    m.put("activations", activations);
    m.put("logits", logits);
    m.put("loss_backward", lossBackward);
    m.put("layer_backward", layerBackward);
    m.put("peak", peak());
    m.put("driver_host", driverHost);
    return m;
  }

  /** An aligned table of the terms in GiB. */
  public String render() {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Long> t : terms().entrySet()) {
      b.append(String.format(Locale.ROOT, "  %-15s %10.3f GiB%n", t.getKey(), gib(t.getValue())));
    }
    return b.toString();
  }

  public static double gib(long bytes) {
    return bytes / (double) (1L << 30);
  }

  /** GiB to three decimals (for JSON output). */
  public static double roundedGib(long bytes) {
    return Math.round(gib(bytes) * 1000) / 1000.0;
  }
}
