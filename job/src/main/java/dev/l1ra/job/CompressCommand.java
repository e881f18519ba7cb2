package dev.l1ra.job;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.plan.ParaCompressor;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.ParaCompression;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.train.Evaluator;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code compress --model DIR --adapter DIR --out DIR (--energy F | --total-rank N) [--data PATH]}:
 * PARA post-hoc compression of a trained PEFT LoRA adapter — the SVD of every ΔW, one global
 * singular-value threshold across layers (keep the fraction F of Σσ², or exactly N ranks in all),
 * each adapter's top triplets written as a new PEFT adapter with its ranks in rank_pattern. With
 * {@code --data} (tokenized Parquet) both adapters are scored. The last line printed is one JSON
 * object with the threshold, kept energy, ranks and parameters before and after (and the losses).
 */
final class CompressCommand {
  private static final Logger LOG = LoggerFactory.getLogger(CompressCommand.class);

  static final Set<String> FLAGS;

  static {
    Set<String> f = new HashSet<>(Scoring.FLAGS);
    f.addAll(List.of("out", "energy", "total-rank"));
    FLAGS = Set.copyOf(f);
  }

  private CompressCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("compress", argv, FLAGS, Set.of());
    ObjectNode n = compress(a);
    if (a.has("data")) {
      SparkSession spark =
          SparkSessions.create("l1ra-compress", a.get("master", "local[2]"), Map.of());
      try {
        scoreBoth(spark, a, n);
      } finally {
        spark.stop();
      }
    }
    System.out.println(n);
    return 0;
  }

  /** Compresses --adapter into --out; the summary so far (no scores). */
  static ObjectNode compress(Args a) {
    Path modelDir = Path.of(a.require("compress", "model"));
    Path adapterDir = Path.of(a.require("compress", "adapter"));
    Path out = Path.of(a.require("compress", "out"));
    ParaCompressor.Target target = target(a);
    if (out.toAbsolutePath().normalize().equals(adapterDir.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException(
          "compress: --out is the --adapter folder "
              + out
              + "; write the compressed adapter to a"
              + " new folder so the original stays intact");
    }
    ModelConfig model = ModelConfigs.load(modelDir);
    ObjectNode n = new ObjectMapper().createObjectNode();
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdapterSet trained = PeftAdapters.load(adapterDir, model, m).adapters()) {
      ParaCompression.Result r = ParaCompression.compress(trained, target, m);
      try (AdapterSet compressed = r.adapters()) {
        PeftAdapters.save(compressed, out, modelDir.toString(), model.family().architecture());
        n.put("adapter", adapterDir.toString());
        n.put("out", out.toString());
        n.put("threshold", r.plan().threshold());
        n.put("kept_energy", r.plan().keptEnergy());
        n.put("total_rank_before", trained.layout().totalRank());
        n.put("total_rank_after", compressed.layout().totalRank());
        n.put("parameters_before", trained.layout().parameters());
        n.put("parameters_after", compressed.layout().parameters());
        LOG.info(
            "PARA: Σr {} -> {}, {} -> {} parameters, threshold σ ≥ {}, {}% of Σσ² kept; written to {}",
            trained.layout().totalRank(),
            compressed.layout().totalRank(),
            trained.layout().parameters(),
            compressed.layout().parameters(),
            String.format("%.4g", r.plan().threshold()),
            String.format("%.2f", 100 * r.plan().keptEnergy()),
            out);
      }
    }
    return n;
  }

  private static ParaCompressor.Target target(Args a) {
    if (a.has("energy") == a.has("total-rank")) {
      throw new IllegalArgumentException(
          "compress: give exactly one of --energy F (fraction of Σσ² to keep, e.g. 0.9) or"
              + " --total-rank N");
    }
    try {
      return a.has("energy")
          ? ParaCompressor.Target.energy(Double.parseDouble(a.get("energy", null)))
          : ParaCompressor.Target.ranks(a.getInt("total-rank", 0));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("compress: --energy wants a number, e.g. 0.9", e);
    }
  }

  /** Adds eval loss and perplexity of the trained (--adapter) and compressed (--out) adapter. */
  static void scoreBoth(SparkSession spark, Args a, ObjectNode n) {
    for (String which : List.of("before", "after")) {
      String adapter = a.get(which.equals("before") ? "adapter" : "out", null);
      Evaluator.Result e = Scoring.of("compress", a).withAdapter(Path.of(adapter)).run(spark);
      n.put("eval_loss_" + which, e.loss());
      n.put("perplexity_" + which, e.perplexity());
      n.put("tokens", e.tokens());
    }
  }
}
