package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.model.llama.RandomModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every shipped preset parses, and cluster presets give a complete spark-submit command. */
class PresetsTest {
  static final Path CONF = Path.of("..", "conf");

  private static List<Path> presets() throws IOException {
    try (Stream<Path> s = Files.list(CONF)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @Test
  void everyPresetLoads() throws IOException {
    List<Path> all = presets();
    assertTrue(all.size() >= 7, "quickstart + L1RA/LoRA/AdaLoRA for Mistral and Llama: " + all);
    for (Path p : all) {
      RunConfig c = RunConfigs.load(p, List.of());
      assertFalse(c.run().name().isBlank(), p.toString());
      if (p.getFileName().toString().contains("openorca")) {
        assertEquals(16, c.lora().r(), p + ": the reference experiment's r");
        assertEquals(1e-4, c.train().lr(), p.toString());
        assertEquals(1024, c.data().prep().seqLen(), p.toString());
      }
    }
  }

  @Test
  void trainWithAGeneratedModelNotYetGeneratedNamesTheRunCommand(@TempDir Path dir)
      throws IOException {
    Path p = CONF.resolve("quickstart.yaml");
    RunConfig c = RunConfigs.load(p, List.of("model.path=" + dir));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Quickstart.requireGenerated(c, "q.yaml"));
    assertTrue(e.getMessage().contains("`./submit.sh --local q.yaml`"), e.getMessage());
    Files.writeString(dir.resolve("model.safetensors"), "");
    assertDoesNotThrow(() -> Quickstart.requireGenerated(c, "q.yaml"), "generated: nothing to say");
  }

  @Test
  void clusterPresetsBuildASparkSubmitCommand() throws IOException {
    Path p = CONF.resolve("mistral-7b-openorca-l1ra.yaml");
    List<String> cmd =
        SubmitCommand.command(
            "l1ra-spark-job.jar", p.toString(), RunConfigs.load(p, List.of()), new String[0]);
    String line = String.join(" ", cmd);
    for (String want :
        List.of(
            "--master yarn",
            "spark.executor.resource.gpu.amount=1",
            "spark.task.resource.gpu.amount=1",
            "spark.executor.resource.gpu.discoveryScript=",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "spark.executorEnv.OPT_OUT_TRACKING=true",
            "dev.l1ra.job.Main",
            "l1ra-spark-job.jar run")) {
      assertTrue(line.contains(want), "missing " + want + " in " + line);
    }
    Path quick = CONF.resolve("quickstart.yaml");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SubmitCommand.command(
                    "j.jar", quick.toString(), RunConfigs.load(quick, List.of()), new String[0]));
    assertTrue(e.getMessage().contains("--local"), e.getMessage());
  }

  /** The model shape a preset's model.path names (its weights are not here). */
  private static ModelConfig shapeOf(RunConfig c) {
    String path = c.model().path();
    String shape =
        path.contains("Llama-3.1-8B")
            ? "llama3-8b"
            : path.contains("Mistral-7B") ? "mistral-7b" : null;
    assertNotNull(shape, "no known shape for model.path " + path);
    return RandomModels.shape(shape, 32000);
  }

  private static MemoryCheck estimate(RunConfig c) {
    ModelConfig model = shapeOf(c);
    int seq = c.data().prep().seqLen();
    return MemoryCheck.of(c, model, c.initialLayout(model), seq, c.train().memoryGib());
  }

  /** Every preset that states its GPU memory fits it by the memory estimate. */
  @Test
  void everyPresetWithAMemorySizeFitsItByTheEstimate() throws IOException {
    int checked = 0;
    for (Path p : presets()) {
      RunConfig c = RunConfigs.load(p, List.of());
      if (c.train().memoryGib() > 0) {
        MemoryCheck check = estimate(c);
        assertTrue(check.fits(), p + ": " + check.describe());
        assertTrue(check.setup().microBatch() >= 1, p.toString());
        checked++;
      }
    }
    assertTrue(checked >= 10, "presets with train.memory_gib: " + checked);
  }

  /**
   * The presets for what most users have: one GPU of 24, 48 or 80 GB, and one node with several
   * GPUs. Each states its card, keeps memory_gib below it, lets the estimate pick the micro-batch,
   * and recomputes activations exactly when the estimate says it must (micro-batch 1 does not fit
   * without) or when that fits a micro-batch at least twice as large.
   */
  @Test
  void singleGpuAndSingleNodePresetsLetTheEstimateDecide() throws IOException {
    Map<String, Integer> cards =
        Map.of(
            "llama31-8b-openorca-l1ra-1gpu-24gb.yaml", 24,
            "llama31-8b-openorca-l1ra-1gpu-48gb.yaml", 48,
            "llama31-8b-openorca-l1ra-1gpu-80gb.yaml", 80,
            "llama31-8b-openorca-l1ra-1node-4gpu.yaml", 24);
    for (Map.Entry<String, Integer> e : cards.entrySet()) {
      Path p = CONF.resolve(e.getKey());
      RunConfig c = RunConfigs.load(p, List.of());
      String header = Files.readString(p).lines().findFirst().orElse("");
      assertTrue(header.contains(e.getValue() + " GB"), p + " names its card: " + header);
      assertTrue(c.train().memoryGib() < e.getValue(), p + ": headroom below the card");
      assertEquals(0, c.train().microBatch(), p + ": micro_batch 0, the estimate picks");
      MemoryCheck with = estimate(RunConfigs.load(p, List.of("train.recompute=true")));
      MemoryCheck without = estimate(RunConfigs.load(p, List.of("train.recompute=false")));
      boolean needed =
          without.maxMicroBatch() == 0 || with.maxMicroBatch() >= 2 * without.maxMicroBatch();
      assertEquals(needed, c.train().recompute(), p + ": recompute by the estimate");
      assertTrue(with.fits() && with.maxMicroBatch() >= 1, p.toString());
    }
    RunConfig node =
        RunConfigs.load(CONF.resolve("llama31-8b-openorca-l1ra-1node-4gpu.yaml"), List.of());
    assertEquals(4, node.spark().partitions());
    List<String> cmd = SubmitCommand.command("j.jar", "n.yaml", node, new String[0]);
    assertTrue(
        cmd.contains("spark.cores.max=4") && cmd.contains("spark.executor.instances=4"), "" + cmd);
    RunConfig one =
        RunConfigs.load(CONF.resolve("llama31-8b-openorca-l1ra-1gpu-24gb.yaml"), List.of());
    assertEquals("gpu", one.model().device(), "a single-GPU run must not fall back to the CPU");
    assertEquals(1, one.spark().partitions());
  }
}
