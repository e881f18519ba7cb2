package dev.l1ra.core.memory;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A run's memory estimate per worker and, with a device size, whether it fits and the largest
 * micro-batch and rank that would: what the {@code memory} command prints and what every training
 * run checks before it starts ({@link #preflight}). Pure planning: no engine, no Spark.
 *
 * @param share a worker's share of the global batch (the largest useful micro-batch)
 */
public record MemoryCheck(
    MemoryEstimator.Setup setup,
    MemoryEstimate estimate,
    Budget budget,
    int maxMicroBatch,
    int maxRank,
    MemoryEstimate withRecompute,
    int share) {
  private static final int MAX_RANK = 1024;

  /**
   * The check a run makes before training: with train.memory_gib set, a run that would not fit
   * stops with settings that would; micro_batch 0 resolves to the largest that fits.
   *
   * @param seq the longest training sample (micro-batches pad to their longest row)
   * @throws IllegalStateException naming the budget, the estimate and what would fit
   */
  public static MemoryCheck preflight(
      RunConfig cfg, ModelConfig model, AdapterLayout layout, int seq) {
    MemoryCheck c = of(cfg, model, layout, seq, cfg.train().memoryGib());
    if (c.budget() != null && !c.fits()) {
      throw new IllegalStateException(
          "the run would not fit in train.memory_gib="
              + cfg.train().memoryGib()
              + ": "
              + c.advice()
              + " (estimate by term: ./submit.sh --local memory CONFIG)");
    }
    return c;
  }

  public boolean fits() {
    return budget == null || budget.fits(estimate);
  }

  public String describe() {
    StringBuilder b = new StringBuilder(estimate.render());
    if (budget != null) {
      b.append(
          String.format(
              Locale.ROOT,
              "  device %.1f GiB, usable %.2f GiB (runtime reserve and 5%% fragmentation): %s%n",
              MemoryEstimate.gib(budget.deviceBytes()),
              MemoryEstimate.gib(budget.usable()),
              fits() ? "fits" : "DOES NOT FIT"));
      b.append(
          String.format(
              Locale.ROOT,
              "  largest micro_batch that fits: %d%s; largest lora.r at this micro_batch: %d%s%n",
              maxMicroBatch,
              maxMicroBatch == share ? " (a worker's whole share of global_batch)" : "",
              maxRank,
              setup.recompute()
                  ? ""
                  : String.format(
                      Locale.ROOT,
                      "; with train.recompute: true the peak is %.2f GiB",
                      MemoryEstimate.gib(withRecompute.peak()))));
    }
    return b.toString();
  }

  public String advice() {
    String peak = String.format(Locale.ROOT, "%.2f", MemoryEstimate.gib(estimate.peak()));
    String usable = String.format(Locale.ROOT, "%.2f", MemoryEstimate.gib(budget.usable()));
    StringBuilder b =
        new StringBuilder("estimated peak " + peak + " GiB > " + usable + " GiB usable; ");
    if (maxMicroBatch > 0) {
      b.append("set train.micro_batch to at most ").append(maxMicroBatch);
    } else if (maxRank > 0) {
      b.append("set lora.r to at most ").append(maxRank);
    } else {
      b.append("even micro_batch 1 does not fit: use fewer tokens per sample (data.prep.seq_len)");
    }
    if (!setup.recompute() && budget.fits(withRecompute)) {
      b.append(", or set train.recompute: true");
    }
    return b.toString();
  }

  public String json() {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("micro_batch", setup.microBatch());
    n.put("seq", setup.seqLen());
    n.put("trainable", setup.layout().parameters());
    estimate.terms().forEach((k, v) -> n.put(k + "_bytes", v));
    n.put("peak_gib", MemoryEstimate.roundedGib(estimate.peak()));
    if (budget != null) {
      n.put("device_bytes", budget.deviceBytes());
      n.put("fits", fits());
      n.put("max_micro_batch", maxMicroBatch);
      n.put("max_rank", maxRank);
    }
    return n.toString();
  }

  /**
   * The estimate for the configured micro-batch (micro_batch 0: the largest that fits, at least 1),
   * and with a device size the largest micro-batch and rank that fit.
   *
   * @param memoryGib the device's memory in GiB; 0 when unknown (no budget)
   */
  public static MemoryCheck of(
      RunConfig cfg, ModelConfig model, AdapterLayout layout, int seq, double memoryGib) {
    Budget budget = memoryGib > 0 ? Budget.ofGib(memoryGib) : null;
    // a worker's share of the global batch bounds a useful micro-batch
    int share = Math.max(1, cfg.train().globalBatch() / cfg.spark().partitions());
    MemoryEstimator.Setup one = setup(cfg, model, layout, seq, 1);
    int batch = budget == null ? 0 : MemoryEstimator.largestMicroBatch(one, budget, share);
    int micro = cfg.train().microBatch() > 0 ? cfg.train().microBatch() : Math.max(1, batch);
    MemoryEstimator.Setup s = one.withMicroBatch(micro);
    MemoryEstimate e = MemoryEstimator.estimate(s);
    MemoryEstimate recompute = MemoryEstimator.estimate(s.withRecompute(true));
    if (budget == null) {
      return new MemoryCheck(s, e, null, 0, 0, recompute, share);
    }
    int r = cfg.lora().r();
    int rank = MemoryEstimator.largestRank(s, k -> scaled(layout, k, r), budget, MAX_RANK);
    return new MemoryCheck(s, e, budget, batch, rank, recompute, share);
  }

  /** The layout with every rank scaled by k/r (exact for uniform ranks), at least 1. */
  static AdapterLayout scaled(AdapterLayout layout, int k, int r) {
    Map<ModuleId, Integer> ranks = new LinkedHashMap<>();
    for (AdapterSpec a : layout.specs()) {
      ranks.put(a.id(), Math.max(1, (int) Math.round(a.rank() * (double) k / r)));
    }
    return layout.withRanks(ranks);
  }

  public static MemoryEstimator.Setup setup(
      RunConfig cfg, ModelConfig model, AdapterLayout layout, int seq, int microBatch) {
    boolean gpu = !cfg.model().device().startsWith("cpu");
    return setup(
        model,
        cfg.model().precision(),
        layout,
        cfg.usesL1ra() || cfg.usesAdaLora(), // gate / singular-value vectors
        microBatch,
        seq,
        cfg.train().recompute(),
        cfg.model().attention() != AttentionKind.PLAIN,
        gpu,
        cfg.lora().dropout());
  }

  public static MemoryEstimator.Setup setup(
      ModelConfig model,
      Precision p,
      AdapterLayout layout,
      boolean gated,
      int microBatch,
      int seq,
      boolean recompute,
      boolean fused,
      boolean gpu,
      double dropout) {
    return new MemoryEstimator.Setup(
        model,
        p == Precision.FP16 ? 2 : 4,
        layout,
        gated,
        microBatch,
        seq,
        recompute,
        fused,
        !fused || !gpu, // the fused kernel repeats grouped k/v itself only on CPU
        dropout,
        false, // the synchronous Spark mode keeps AdamW on the driver
        gpu);
  }
}
