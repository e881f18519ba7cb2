package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.memory.Budget;
import dev.l1ra.core.memory.MemoryEstimate;
import dev.l1ra.core.memory.MemoryEstimator;
import dev.l1ra.model.llama.RandomModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code memory CONFIG [--set k=v ...] [--shape NAME [--layers N]] [--seq N] [--memory-gib G]}: the
 * analytic peak memory of one training worker for a run config, by term; with a device size
 * (--memory-gib or train.memory_gib) whether it fits and the largest micro-batch and LoRA rank that
 * would. --shape takes a model shape by name (llama3-8b, mistral-7b, ...) instead of model.path's
 * config.json, so a cluster run can be sized on a laptop. The last line is one JSON object.
 *
 * <p>The same check runs before every training run when train.memory_gib is set ({@link
 * #preflight}).
 */
final class MemoryCommand {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryCommand.class);
  private static final int MAX_RANK = 1024;

  private MemoryCommand() {}

  static int run(String[] argv) {
    Args a =
        Args.parse(
            "memory", argv, Set.of("config", "shape", "layers", "seq", "memory-gib"), Set.of());
    String file = a.configFile("memory", "conf/llama31-8b-openorca-l1ra.yaml");
    RunConfig cfg = RunConfigs.load(Path.of(file), a.sets());
    ModelConfig model =
        a.has("shape") ? RandomModels.shape(a.get("shape", null), 32000) : modelOf(cfg);
    if (a.has("layers")) {
      model = model.withNumLayers(a.getPositive("layers", model.numLayers()));
    }
    int seq = a.has("seq") ? a.getPositive("seq", 0) : configuredSeqLen(cfg);
    double gib = a.has("memory-gib") ? gib(a.get("memory-gib", null)) : cfg.train().memoryGib();
    Check c = check(cfg, model, InitialLayout.of(cfg, model), seq, gib);
    System.out.print(c.describe());
    System.out.println(c.json());
    return 0;
  }

  /**
   * Logs the estimate before training; with train.memory_gib set, stops a run that would not fit
   * and names settings that would, and resolves micro_batch 0 to the largest that fits.
   *
   * @param seq the longest training sample (micro-batches pad to their longest row)
   * @return the check: the micro-batch to use and the estimate (for the run report)
   */
  static Check preflight(RunConfig cfg, ModelConfig model, AdapterLayout layout, int seq) {
    Check c = check(cfg, model, layout, seq, cfg.train().memoryGib());
    if (cfg.train().microBatch() == 0) {
      LOG.info(
          "train.micro_batch 0: using {}, the largest that fits train.memory_gib={}",
          c.setup().microBatch(),
          cfg.train().memoryGib());
    }
    LOG.info("memory estimate per worker (seq {}):\n{}", seq, c.describe());
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

  /** The estimate, and with a budget the largest micro-batch and rank that fit. */
  record Check(
      MemoryEstimator.Setup setup,
      MemoryEstimate estimate,
      Budget budget,
      int maxMicroBatch,
      int maxRank,
      MemoryEstimate withRecompute,
      int share) {
    boolean fits() {
      return budget == null || budget.fits(estimate);
    }

    String describe() {
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

    String advice() {
      String peak = String.format(Locale.ROOT, "%.2f", MemoryEstimate.gib(estimate.peak()));
      String usable = String.format(Locale.ROOT, "%.2f", MemoryEstimate.gib(budget.usable()));
      StringBuilder b =
          new StringBuilder("estimated peak " + peak + " GiB > " + usable + " GiB usable; ");
      if (maxMicroBatch > 0) {
        b.append("set train.micro_batch to at most ").append(maxMicroBatch);
      } else if (maxRank > 0) {
        b.append("set lora.r to at most ").append(maxRank);
      } else {
        b.append(
            "even micro_batch 1 does not fit: use fewer tokens per sample (data.prep.seq_len)");
      }
      if (!setup.recompute() && budget.fits(withRecompute)) {
        b.append(", or set train.recompute: true");
      }
      return b.toString();
    }

    String json() {
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
  }

  /**
   * The estimate for the configured micro-batch (micro_batch 0: the largest that fits, at least 1),
   * and with a device size the largest micro-batch and rank that fit.
   *
   * @param memoryGib the device's memory in GiB; 0 when unknown (no budget)
   */
  static Check check(
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
      return new Check(s, e, null, 0, 0, recompute, share);
    }
    int r = cfg.lora().r();
    int rank = MemoryEstimator.largestRank(s, k -> scaled(layout, k, r), budget, MAX_RANK);
    return new Check(s, e, budget, batch, rank, recompute, share);
  }

  /** The layout with every rank scaled by k/r (exact for uniform ranks), at least 1. */
  static AdapterLayout scaled(AdapterLayout layout, int k, int r) {
    Map<ModuleId, Integer> ranks = new LinkedHashMap<>();
    for (AdapterSpec a : layout.specs()) {
      ranks.put(a.id(), Math.max(1, (int) Math.round(a.rank() * (double) k / r)));
    }
    return layout.withRanks(ranks);
  }

  static MemoryEstimator.Setup setup(
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

  static MemoryEstimator.Setup setup(
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

  private static ModelConfig modelOf(RunConfig cfg) {
    Path dir = Path.of(cfg.model().path());
    if (!Files.isRegularFile(dir.resolve("config.json"))) {
      throw new IllegalArgumentException(
          "memory: model.path "
              + dir
              + " has no config.json; point it at a Hugging Face model folder or give --shape"
              + " (tiny, small, llama3-1b, llama3-8b, mistral-7b)");
    }
    return ModelConfigs.load(dir);
  }

  private static double gib(String v) {
    try {
      double g = Double.parseDouble(v);
      if (g > 0) {
        return g;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "memory: --memory-gib must be the device's memory in GiB (> 0), got \"" + v + "\"");
  }

  private static int configuredSeqLen(RunConfig cfg) {
    if (cfg.data().prep() == null) {
      throw new IllegalArgumentException(
          "memory: the config has no data.prep.seq_len; give the tokens per sample with --seq N");
    }
    return cfg.data().prep().seqLen();
  }
}
