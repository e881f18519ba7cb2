package dev.l1ra.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.ChatFormat;
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
    assertEquals(Method.LORA, c.method());
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

  @Test
  void aFractionForACountIsAnErrorNamingTheKey() throws IOException {
    String e = rejected("train.steps=12.5");
    assertTrue(e.contains("train.steps = 12.5: must be an integer"), e);
    ConfigException f =
        assertThrows(
            ConfigException.class,
            () -> RunConfigs.load(write(MINIMAL.replace("steps: 10", "steps: 12.5")), List.of()));
    assertTrue(f.getMessage().contains("train.steps = 12.5"), f.getMessage());
  }

  @Test
  void aKeyGivenTwiceIsAnErrorNamingIt() throws IOException {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> RunConfigs.load(write(MINIMAL + "  steps: 12\n"), List.of()));
    assertTrue(e.getMessage().contains("config key train.steps is given twice"), e.getMessage());
  }

  @Test
  void aMisspeltRequiredKeyIsReportedAsUnknown() throws IOException {
    String inSection = MINIMAL.replace("path: models/tiny", "pth: models/tiny");
    ConfigException e =
        assertThrows(ConfigException.class, () -> RunConfigs.load(write(inSection), List.of()));
    assertTrue(e.getMessage().contains("config key model.pth is unknown"), e.getMessage());
    assertTrue(e.getMessage().contains("known keys in model: attention,"), e.getMessage());
    String section = MINIMAL.replace("\ntrain:", "\ntrian:");
    ConfigException s =
        assertThrows(ConfigException.class, () -> RunConfigs.load(write(section), List.of()));
    assertTrue(s.getMessage().contains("config key trian is unknown"), s.getMessage());
  }

  @Test
  void aGlobalBatchThatThePartitionsDoNotDivideIsRefusedOnLoad() throws IOException {
    String e = rejected("spark.partitions=3");
    assertTrue(e.contains("train.global_batch = 8: must be a multiple of spark.partitions = 3"), e);
    RunConfig c = RunConfigs.load(write(MINIMAL), List.of("spark.partitions=4"));
    assertEquals(4, c.spark().partitions());
  }

  @Test
  void enumeratedValuesAreNamedWithTheKnownOnes() throws IOException {
    assertTrue(
        rejected("method=lorra").contains("method = lorra: not one of [lora, l1ra, adalora]"));
    String init = rejected("lora.init=gausian");
    assertTrue(init.contains("lora.init = gausian: not one of [kaiming_uniform, gaussian]"), init);
    String budget = rejected("l1ra.budget=params");
    assertTrue(budget.contains("l1ra.budget = params: not one of [rank, parameters]"), budget);
    String attention = rejected("model.attention=flash");
    assertTrue(attention.contains("not one of [plain, fused, auto]"), attention);
    String schedule = rejected("train.schedule=step");
    assertTrue(schedule.contains("not one of [cosine, linear, constant]"), schedule);
    String strategy = rejected("lora.strategy=middle");
    assertTrue(
        strategy.contains(
            "lora.strategy = middle: not one of [uniform, linear_decay, attention_heavy,"),
        strategy);
    String precision = rejected("model.precision=fp8");
    assertTrue(precision.contains("model.precision = fp8: not one of [fp32, fp16]"), precision);
    String deploy = rejected("spark.deploy_mode=remote");
    assertTrue(deploy.contains("not one of [client, cluster]"), deploy);
  }

  @Test
  void bf16AndAdaloraInRoundsAreRefusedWithTheirReasons() throws IOException {
    String bf16 = rejected("model.precision=bf16");
    assertTrue(bf16.contains("model.precision = bf16: bf16 is not supported"), bf16);
    assertTrue(bf16.contains("use fp16"), bf16);
    String mode = rejected("spark.mode=local-sgd");
    assertTrue(mode.contains("spark.mode = local-sgd: not one of [sync, rounds]"), mode);
    String ada = rejected("spark.mode=rounds", "method=adalora");
    assertTrue(ada.contains("spark.mode = rounds: method adalora needs every step's"), ada);
    String h = rejected("spark.mode=rounds", "spark.round_steps=0");
    assertTrue(h.contains("spark.round_steps = 0: must be >= 1"), h);
    String mu = rejected("spark.outer_momentum=1");
    assertTrue(mu.contains("spark.outer_momentum = 1.0: must be in [0, 1)"), mu);
    String payload = rejected("spark.payload=int8");
    assertTrue(payload.contains("not one of [fp32, fp16, bf16]"), payload);
  }

  @Test
  void roundsModeReadsItsKeysWithDefaults() throws IOException {
    RunConfig c = RunConfigs.load(write(MINIMAL), List.of("spark.mode=rounds"));
    assertTrue(c.spark().rounds());
    assertEquals(8, c.spark().roundSteps());
    assertEquals(1.0, c.spark().outerLr());
    assertEquals(0.0, c.spark().outerMomentum());
    assertEquals(WirePrecision.FP32, c.spark().payload());
    RunConfig d =
        RunConfigs.load(
            write(MINIMAL),
            List.of("spark.mode=rounds", "spark.round_steps=16", "spark.payload=bf16"));
    assertEquals(16, d.spark().roundSteps());
    assertEquals(WirePrecision.BF16, d.spark().payload());
  }

  @Test
  void optionalKeysLeftOutStayUnsetAndGivenMustBePositive() throws IOException {
    RunConfig c = RunConfigs.load(write(MINIMAL), List.of());
    assertEquals(0, c.train().memoryGib(), "no memory check");
    assertEquals(0, c.l1ra().rankUpdateSteps(), "the ratio decides");
    assertEquals(100, c.l1ra().interval(1000));
    assertTrue(rejected("train.steps=0").contains("train.steps = 0: must be > 0"));
    assertTrue(rejected("train.memory_gib=0").contains("train.memory_gib = 0"));
    assertTrue(rejected("l1ra.rank_update_steps=0").contains("l1ra.rank_update_steps = 0"));
    RunConfig epochs =
        RunConfigs.load(write(MINIMAL), List.of("train.steps=null", "train.epochs=2"));
    assertEquals(0, epochs.train().steps());
    assertEquals(2.0, epochs.train().epochs());
  }

  static final String FULL =
      MINIMAL
          + """
            epochs: 1.5
            memory_gib: 80
            micro_batch: 0
            schedule: linear
          method: l1ra
          lora: {r: 4, strategy: linear_decay, init: gaussian, r_min: 2}
          l1ra: {budget: parameters, rank_update_steps: 5}
          spark: {partitions: 2, mode: sync, deploy_mode: cluster}
          """
              .replace("          ", "");

  @Test
  void everyTypedValueRoundTripsThroughTheWrittenYaml() throws IOException {
    String yaml =
        FULL.replace(
            "data:\n  train: data/train\n",
            """
            data:
              train: data/train
              sample: {path: s.jsonl, rows: 30}
              prep: {input: s.jsonl, tokenizer: tok, out: prepared, template: qwen2, mode: pack}
            """);
    RunConfig c =
        RunConfigs.load(write(yaml), List.of("model.precision=fp16", "model.attention=plain"));
    assertEquals(Method.L1RA, c.method());
    assertEquals(Precision.FP16, c.model().precision());
    assertEquals(1024, c.data().prep().seqLen(), "prep defaults");
    assertEquals(ChatFormat.CHATML, c.data().prep().template());
    assertEquals(PrepSection.Mode.PACK, c.data().prep().mode());
    Path resolved = dir.resolve("resolved.yaml");
    Files.writeString(resolved, RunConfigs.toYaml(c));
    assertEquals(c, RunConfigs.load(resolved, List.of()));
    String written = Files.readString(resolved);
    assertTrue(written.contains("strategy: \"linear_decay\""), written);
    assertTrue(!written.contains("rank_update_steps: 0"), written);
  }

  @Test
  void thePrepSectionIsCheckedOnLoad() throws IOException {
    String typo = rejected("data.prep.input=x", "data.prep.tokenizer=t", "data.prep.sq_len=64");
    assertTrue(typo.contains("config key data.prep.sq_len is unknown; known keys in prep:"), typo);
    assertTrue(typo.contains("seq_len"), typo);
    String missing = rejected("data.prep.input=x", "data.prep.tokenizer=t");
    assertTrue(missing.contains("prep.out = null: set the output folder"), missing);
    String auto = rejected("data.prep.input=x", "data.prep.tokenizer=t", "data.prep.out=o");
    assertTrue(auto.contains("auto needs model_config"), auto);
    RunConfig c = RunConfigs.load(write(MINIMAL), List.of());
    assertEquals(null, c.data().prep(), "no prep section: nothing to prepare");
  }
}
