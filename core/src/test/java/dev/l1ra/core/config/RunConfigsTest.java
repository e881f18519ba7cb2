package dev.l1ra.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigsTest {
  @TempDir Path dir;

  static final String MINIMAL =
      """
      model:
        path: models/tiny
      data:
        train: data/train
      train:
        steps: 10
      """;

  private Path write(String yaml) throws IOException {
    Path p = dir.resolve("c.yaml");
    Files.writeString(p, yaml);
    return p;
  }

  @Test
  void minimalConfigGetsDefaults() throws IOException {
    RunConfig c = RunConfigs.load(write(MINIMAL), List.of());
    assertEquals("lora", c.method());
    assertEquals(8, c.lora().r());
    assertEquals(List.of("all-linear"), c.lora().targetModules());
    assertEquals(42L, c.run().seed());
    assertEquals(1e-3, c.l1ra().lambda());
    assertEquals(1, c.spark().partitions());
  }

  @Test
  void unknownKeyIsNamedWithItsSectionAndTheKnownKeys() throws IOException {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> RunConfigs.load(write(MINIMAL + "  lrr: 0.1\n"), List.of()));
    assertTrue(e.getMessage().contains("train.lrr is unknown"), e.getMessage());
    assertTrue(
        e.getMessage().contains("lr,") && e.getMessage().contains("global_batch"), e.getMessage());
  }

  @Test
  void invalidValueNamesKeyAndRule() throws IOException {
    String e = rejected("train.micro_batch=16");
    assertTrue(e.contains("train.micro_batch = 16"), e);
    String m = rejected("method=dora");
    assertTrue(m.contains("method = dora"), m);
  }

  /** The message of the config error that MINIMAL with these overrides raises. */
  private String rejected(String... overrides) throws IOException {
    Path file = write(MINIMAL);
    return assertThrows(ConfigException.class, () -> RunConfigs.load(file, List.of(overrides)))
        .getMessage();
  }

  @Test
  void microBatchZeroMeansTheLargestThatFitsAndNeedsTheDeviceMemory() throws IOException {
    String e = rejected("train.micro_batch=0");
    assertTrue(e.contains("needs train.memory_gib"), e);
    RunConfig c =
        RunConfigs.load(write(MINIMAL), List.of("train.micro_batch=0", "train.memory_gib=80"));
    assertEquals(0, c.train().microBatch());
    assertEquals(80.0, c.train().memoryGib());
    String g = rejected("train.memory_gib=-1");
    assertTrue(g.contains("train.memory_gib"), g);
  }

  @Test
  void wrongTypeIsNamed() throws IOException {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> RunConfigs.load(write(MINIMAL), List.of("train.steps=many")));
    assertTrue(e.getMessage().contains("train.steps"), e.getMessage());
  }

  @Test
  void overridesAndResolvedYamlRoundTrip() throws IOException {
    RunConfig c =
        RunConfigs.load(write(MINIMAL), List.of("method=l1ra", "l1ra.lambda=5e-3", "lora.r=16"));
    assertEquals(5e-3, c.l1ra().lambda());
    assertEquals(16, c.lora().r());
    assertEquals(16.0, c.lora().alpha(), "alpha defaults to r");
    Path resolved = dir.resolve("resolved.yaml");
    Files.writeString(resolved, RunConfigs.toYaml(c));
    assertEquals(c, RunConfigs.load(resolved, List.of()));
  }

  @Test
  void missingSectionIsNamed() throws IOException {
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> RunConfigs.load(write("model:\n  path: x\n"), List.of()));
    assertTrue(e.getMessage().contains("data"), e.getMessage());
  }
}
