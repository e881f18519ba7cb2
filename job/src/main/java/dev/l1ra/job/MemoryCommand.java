package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.model.llama.RandomModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code memory CONFIG [--set k=v ...] [--shape NAME [--layers N]] [--seq N] [--memory-gib G]}: the
 * analytic peak memory of one training worker for a run config, by term; with a device size
 * (--memory-gib or train.memory_gib) whether it fits and the largest micro-batch and LoRA rank that
 * would. --shape takes a model shape by name (llama3-8b, mistral-7b, ...) instead of model.path's
 * config.json, so a cluster run can be sized on a laptop. The last line is one JSON object.
 *
 * <p>The same check runs before every training run when train.memory_gib is set ({@link
 * MemoryCheck#preflight}).
 */
final class MemoryCommand {
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
    MemoryCheck c = MemoryCheck.of(cfg, model, cfg.initialLayout(model), seq, gib);
    System.out.print(c.describe());
    System.out.println(c.json());
    return 0;
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
