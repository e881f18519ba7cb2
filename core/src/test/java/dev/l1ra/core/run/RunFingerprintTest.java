package dev.l1ra.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fingerprint changes with what defines a run (method, adapters, data, batch, seed, precision)
 * and not with what a resumed run may change (steps, cadence, threads, micro-batch, partitions).
 */
class RunFingerprintTest {
  @TempDir Path dir;

  private Map<String, String> fingerprint(String data, String... sets) throws IOException {
    Path model = Fixtures.model("tiny-llama3");
    Path yaml = dir.resolve("c.yaml");
    Files.writeString(
        yaml,
        """
        model: {path: %s}
        data: {train: data/train}
        method: l1ra
        lora: {r: 4, alpha: 8}
        train: {steps: 10, global_batch: 8, micro_batch: 4}
        """
            .formatted(model));
    RunConfig cfg = RunConfigs.load(yaml, List.of(sets));
    ModelConfig m = ModelConfigs.load(model);
    return RunFingerprint.of(cfg, m, cfg.initialLayout(m), data);
  }

  private List<RunFingerprint.Mismatch> diff(String... sets) throws IOException {
    return RunFingerprint.compare(fingerprint("d1"), fingerprint("d1", sets));
  }

  @Test
  void whatARunMayChangeOnResumeLeavesItAlone() throws IOException {
    assertEquals(
        List.of(),
        diff(
            "train.steps=500",
            "train.eval_every=5",
            "train.log_every=1",
            "train.checkpoint_every=3",
            "train.keep_checkpoints=4",
            "train.threads=2",
            "train.micro_batch=2",
            "train.lr=1e-3",
            "model.device=cpu"));
  }

  @Test
  void whatDefinesARunIsNamedWithBothValues() throws IOException {
    List<RunFingerprint.Mismatch> method = diff("method=lora");
    assertEquals(List.of(new RunFingerprint.Mismatch("method", "l1ra", "lora")), method);
    assertEquals("adapters", diff("lora.r=8").get(0).key());
    assertEquals("adapters", diff("lora.target_modules=[q_proj]").get(0).key());
    assertEquals("train.global_batch", diff("train.global_batch=16").get(0).key());
    assertEquals("run.seed", diff("run.seed=1").get(0).key());
    assertEquals("model.precision", diff("model.precision=fp16").get(0).key());
    List<RunFingerprint.Mismatch> data =
        RunFingerprint.compare(fingerprint("d1"), fingerprint("d2"));
    assertEquals(List.of(new RunFingerprint.Mismatch("data.train", "d1", "d2")), data);
  }

  @Test
  void aRefusalNamesKeysValuesAndBothFixes() throws IOException {
    String m =
        RunFingerprint.refusal(
            "r",
            Path.of("runs/r/checkpoints/step-000004"),
            Path.of("runs/r/config.yaml"),
            diff("method=lora"));
    assertTrue(m.contains("method was l1ra, now lora"), m);
    assertTrue(m.contains("runs/r/checkpoints/step-000004"), m);
    assertTrue(m.contains("--fresh") && m.contains("runs/r/config.yaml"), m);
  }

  @Test
  void keysAnOlderCheckpointLacksAreNotCompared() throws IOException {
    Map<String, String> now = fingerprint("d1");
    assertEquals(List.of(), RunFingerprint.compare(Map.of("method", "l1ra"), now));
  }
}
