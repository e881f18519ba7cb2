package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.model.train.Evaluator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The eval CLI reproduces transformers' losses on the fixture models, with and without adapters.
 */
class EvalCommandTest {
  static SparkSession spark;
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("eval-test", "local[2]", Map.of());
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** The fixture batch (input_ids, labels) as tokenized Parquet. */
  static Path parquet(String model) {
    Path out = dir.resolve(model + ".parquet");
    List<Row> rows = new ArrayList<>();
    try (SafetensorsFile f =
        SafetensorsFile.open(Fixtures.model(model).resolve("expected.safetensors"))) {
      long[] ids = f.longs("input_ids");
      long[] labels = f.longs("labels");
      int t = (int) f.info("input_ids").shape()[1];
      for (int b = 0; b < ids.length / t; b++) {
        int[] x = new int[t];
        int[] y = new int[t];
        for (int j = 0; j < t; j++) {
          x[j] = (int) ids[b * t + j];
          y[j] = (int) labels[b * t + j];
        }
        rows.add(RowFactory.create("row" + b, x, y));
      }
    }
    StructType s =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField(
                    "input_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
                DataTypes.createStructField(
                    "labels", DataTypes.createArrayType(DataTypes.IntegerType, false), false)));
    spark.createDataFrame(rows, s).write().mode("overwrite").parquet(out.toString());
    return out;
  }

  @ParameterizedTest
  @CsvSource({
    "tiny-llama3,",
    "tiny-mistral,",
    "tiny-qwen2,",
    "tiny-llama3,lora-pattern",
    "tiny-qwen2,rslora-r4"
  })
  void reproducesTheFixtureLoss(String model, String adapter) {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "--model",
                Fixtures.model(model).toString(),
                "--data",
                parquet(model).toString(),
                "--attention",
                "plain"));
    Path expected = Fixtures.model(model).resolve("expected.safetensors");
    if (adapter != null) {
      argv.addAll(List.of("--adapter", Fixtures.model(model).resolve(adapter).toString()));
      expected = Fixtures.model(model).resolve(adapter).resolve("expected.safetensors");
    }
    Evaluator.Result r =
        Scoring.of("eval", Args.parse("eval", argv.toArray(String[]::new), Scoring.FLAGS, Set.of()))
            .run(spark);
    float want;
    try (SafetensorsFile f = SafetensorsFile.open(expected)) {
      want = f.floats("loss")[0];
    }
    System.out.printf("eval %s %s: loss %.7f want %.7f%n", model, adapter, r.loss(), want);
    assertEquals(want, r.loss(), 1e-5 * want, "HF loss (mean over learned, shifted targets)");
    assertEquals(Math.exp(r.loss()), r.perplexity(), 1e-9);
  }

  @ParameterizedTest
  @CsvSource({"tiny-llama3"})
  void aDataSetWithoutLabelsIsRefusedWithTheFix(String model) {
    Path bad = dir.resolve("nolabels.parquet");
    spark
        .read()
        .parquet(parquet(model).toString())
        .drop("labels")
        .write()
        .mode("overwrite")
        .parquet(bad.toString());
    String e = refused(model, bad.toString());
    assertTrue(e.contains("\"labels\"") && e.contains("data-prep"), e);
  }

  /** The message of the error that eval of this data on this fixture model raises. */
  private static String refused(String model, String data) {
    String[] argv = {"--model", Fixtures.model(model).toString(), "--data", data};
    return assertThrows(
            IllegalArgumentException.class,
            () -> Scoring.of("eval", Args.parse("eval", argv, Scoring.FLAGS, Set.of())).run(spark))
        .getMessage();
  }

  @Test
  void aMissingDataPathIsNamedWithTheFix() {
    String missing = dir.resolve("missing.parquet").toString();
    String e = refused("tiny-llama3", missing);
    assertTrue(e.contains("tokenized data " + missing) && e.contains("prep"), e);
  }

  @Test
  void compressAtFullEnergyScoresLikeTheTrainedAdapterAndHalfTheRankCostsLittle() {
    String model = "tiny-llama3";
    String data = parquet(model).toString();
    String adapter = Fixtures.model(model).resolve("lora-r4").toString();
    ObjectNode full = compress(model, adapter, data, "--energy", "1.0");
    System.out.println("PARA energy 1.0: " + full);
    assertEquals(56, full.get("total_rank_before").asInt(), "14 adapters x r 4");
    assertEquals(56, full.get("total_rank_after").asInt());
    assertEquals(
        full.get("eval_loss_before").asDouble(),
        full.get("eval_loss_after").asDouble(),
        1e-5,
        "the same ΔW scores the same");
    ObjectNode half = compress(model, adapter, data, "--total-rank", "28");
    System.out.println("PARA total rank 28: " + half);
    assertEquals(28, half.get("total_rank_after").asInt());
    assertTrue(half.get("parameters_after").asLong() < half.get("parameters_before").asLong());
    assertTrue(half.get("kept_energy").asDouble() < 1);
  }

  @Test
  void compressRefusesToOverwriteItsInputAndWantsOneTarget() {
    String adapter = Fixtures.model("tiny-llama3").resolve("lora-r4").toString();
    String[] base = {"--model", Fixtures.model("tiny-llama3").toString(), "--adapter", adapter};
    IllegalArgumentException same =
        assertThrows(
            IllegalArgumentException.class,
            () -> CompressCommand.compress(args(base, "--out", adapter, "--energy", "0.9")));
    assertTrue(same.getMessage().contains("original stays intact"), same.getMessage());
    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class,
            () -> CompressCommand.compress(args(base, "--out", dir.resolve("x").toString())));
    assertTrue(none.getMessage().contains("--energy"), none.getMessage());
  }

  private static ObjectNode compress(String model, String adapter, String data, String... target) {
    Path out = dir.resolve("para" + String.join("", target).replace("-", ""));
    String[] base = {
      "--model",
      Fixtures.model(model).toString(),
      "--adapter",
      adapter,
      "--out",
      out.toString(),
      "--data",
      data,
      "--attention",
      "plain"
    };
    Args a = args(base, target);
    ObjectNode n = CompressCommand.compress(a);
    CompressCommand.scoreBoth(spark, a, n);
    return n;
  }

  private static Args args(String[] base, String... more) {
    List<String> argv = new ArrayList<>(List.of(base));
    argv.addAll(List.of(more));
    return Args.parse("compress", argv.toArray(String[]::new), CompressCommand.FLAGS, Set.of());
  }
}
