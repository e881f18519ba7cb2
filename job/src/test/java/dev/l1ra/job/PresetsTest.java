package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  @Test
  void databricksJobIsValidJsonWithTheEntryPoint() throws IOException {
    JsonNode job = new ObjectMapper().readTree(CONF.resolve("databricks/job.json").toFile());
    JsonNode task = job.get("tasks").get(0);
    assertEquals("dev.l1ra.job.Main", task.get("spark_jar_task").get("main_class_name").asText());
    assertEquals(
        "1",
        task.get("new_cluster").get("spark_conf").get("spark.task.resource.gpu.amount").asText());
  }
}
