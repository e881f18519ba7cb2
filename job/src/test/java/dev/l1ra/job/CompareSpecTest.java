package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.ConfigException;
import dev.l1ra.core.config.Method;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.RopeScaling;
import dev.l1ra.core.lora.AdapterLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped webster/WordNet comparison: every row resolves against the preset, and the rows are
 * comparable — the same steps, batch, learning rate and data, and the same Σr (336 on the webster
 * shape) except the rows that say otherwise. No model files needed: the shape is written here.
 */
class CompareSpecTest {
  static final Path SPEC = PresetsTest.CONF.resolve("compare").resolve("webster-wordnet.yaml");

  /** webster-22m's config.json shape (../shared/models/webster-22m): 6 layers, hidden 384. */
  static ModelConfig websterShape() {
    return new ModelConfig(
        "llama",
        32000,
        384,
        1024,
        6,
        6,
        2,
        64,
        1e-5,
        RopeScaling.plain(10000.0),
        true,
        Set.of(),
        1024,
        0,
        1,
        List.of(2),
        -1,
        "float16");
  }

  private static ComparePlan plan(String... argv) {
    CompareSpec spec = CompareSpec.load(SPEC);
    CompareSpec
        rooted = // the spec's preset path is relative to the project root, tests run in job/
        new CompareSpec(
                PresetsTest.CONF.resolve("webster-wordnet.yaml").toString(),
                spec.out(),
                spec.seeds(),
                spec.jobs(),
                spec.threads(),
                spec.generate(),
                spec.rows());
    return ComparePlan.of(rooted, Args.parse("compare", argv, CompareCommand.FLAGS, Set.of()));
  }

  @Test
  void everyRowHasTheSameStepsBatchAndDataAndTheBudgetItClaims() {
    ComparePlan p = plan();
    ModelConfig webster = websterShape();
    Map<String, Integer> budgets = new HashMap<>();
    for (CompareSpec.Row r : p.rows()) {
      for (long seed : p.seedsOf(r)) {
        CompareSpec.Row trained = r.trains() ? r : p.row(r.compress().from());
        RunConfig c = p.config(trained, seed);
        assertEquals(150, c.train().steps(), r.name());
        assertEquals(16, c.train().globalBatch(), r.name());
        assertEquals(1e-3, c.train().lr(), r.name());
        assertEquals(p.base().data().train(), c.data().train(), r.name());
        assertEquals(seed, c.run().seed(), r.name());
        assertEquals(null, c.data().eval(), r.name() + ": no eval inside training");
        AdapterLayout l = c.initialLayout(webster);
        int sigma = c.usesAdaLora() ? c.adalora().targetR() * l.size() : l.totalRank();
        budgets.put(r.name(), r.trains() ? sigma : sigma / 2);
      }
    }
    Map<String, Integer> want = new HashMap<>();
    p.rows().forEach(r -> want.put(r.name(), 336));
    want.put("lora-r16", 672);
    want.put("attention-heavy", 330); // 4·10 + 3·5 per layer: the closest the formula gets
    want.put("l1ra-para50", 168);
    assertEquals(want, budgets);
    assertEquals(3, p.seedsOf(p.row("lora-r8")).size(), "LoRA r8 and L1RA have 3 seeds");
    assertEquals(3, p.seedsOf(p.row("l1ra")).size());
  }

  @Test
  void commandLineOverridesComeAfterTheRowsAndSeedsAndOnlyNarrowThePlan() {
    ComparePlan p =
        plan("--set", "train.steps=4", "--seeds", "1", "--only", "lora-r8,l1ra", "--jobs", "1");
    assertEquals(List.of("lora-r8", "l1ra"), p.rows().stream().map(CompareSpec.Row::name).toList());
    assertEquals(List.of(42L), p.seedsOf(p.row("l1ra")));
    RunConfig c = p.config(p.row("l1ra"), 42);
    assertEquals(4, c.train().steps());
    assertEquals(Method.L1RA, c.method());
    assertEquals("l1ra-s42", c.run().name());
    assertEquals(1, p.jobs());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> plan("--only", "lora-r9"));
    assertTrue(
        e.getMessage().contains("lora-r9") && e.getMessage().contains("lora-r8"), e.getMessage());
  }

  @Test
  void theL1raSweepResolvesWithTheLambdaAndRatioItsRowsName() {
    CompareSpec sweep =
        CompareSpec.load(
            PresetsTest.CONF.resolve("compare").resolve("webster-wordnet-l1ra-sweep.yaml"));
    for (CompareSpec.Row r : sweep.rows()) {
      RunConfig c =
          dev.l1ra.core.config.RunConfigs.load(
              PresetsTest.CONF.resolve("webster-wordnet.yaml"), r.set());
      assertEquals(150, c.train().steps(), r.name());
      if (r.name().startsWith("l1ra-lam")) { // l1ra-lam<λ>-u<ratio>
        String[] p = r.name().substring("l1ra-lam".length()).split("-u");
        assertEquals(Double.parseDouble(p[0]), c.l1ra().lambda(), r.name());
        assertEquals(Double.parseDouble(p[1]), c.l1ra().rankUpdateRatio(), r.name());
        assertEquals(2e-2, c.l1ra().etaC(), r.name());
      }
    }
  }

  @Test
  void aBrokenSpecIsRefusedNamingTheKey(@TempDir Path dir) throws IOException {
    String head = "preset: conf/webster-wordnet.yaml\nrows:\n";
    assertRefused(dir, head + "  - {name: a}\n  - {name: a}\n", "rows.name = a: is used twice");
    assertRefused(
        dir,
        head + "  - {name: p, compress: {from: a, total_rank_fraction: 0.5}}\n  - {name: a}\n",
        "must be listed before p");
    assertRefused(
        dir, head + "  - {name: a, seeds: 2}\n", "rows.a.seeds = 2: more than the 1 seeds listed");
    assertRefused(dir, head + "  - {name: a, sett: [x=1]}\n", "sett");
    assertRefused(
        dir,
        head + "  - {name: a}\n  - {name: p, compress: {from: a, total_rank_fraction: 1.5}}\n",
        "compress.total_rank_fraction = 1.5: must be in (0, 1]");
  }

  private static void assertRefused(Path dir, String yaml, String message) throws IOException {
    Path f = dir.resolve("spec.yaml");
    Files.writeString(f, yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> CompareSpec.load(f));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
