package dev.l1ra.job;

import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.data.TokenizedData;
import dev.l1ra.job.spark.SparkEvaluator;
import dev.l1ra.job.spark.WorkerSpec;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.train.Evaluator;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@code eval --model DIR --data PATH [--adapter DIR]}: scores a Hugging Face model folder,
 * optionally with a PEFT LoRA adapter, on tokenized Parquet; the last line printed is one JSON
 * object with {@code loss} (learned-token-weighted mean over the whole set, labels shifted as
 * Hugging Face does), {@code perplexity} and {@code tokens}.
 */
final class EvalCommand {
  private EvalCommand() {}

  static final Set<String> FLAGS =
      Set.of(
          "model",
          "data",
          "adapter",
          "precision",
          "device",
          "attention",
          "micro-batch",
          "partitions",
          "master");

  static int run(String[] argv) {
    Args a = Args.parse("eval", argv, FLAGS, Set.of());
    SparkSession spark = SparkSessions.create("l1ra-eval", a.get("master", "local[2]"), Map.of());
    try {
      System.out.println(
          Summaries.eval(
              evaluate(spark, a),
              a.require("eval", "model"),
              a.get("adapter", null),
              a.require("eval", "data")));
    } finally {
      spark.stop();
    }
    return 0;
  }

  /** Scores the model (and adapter) of the parsed flags on the data, as a Spark job. */
  static Evaluator.Result evaluate(SparkSession spark, Args a) {
    Path modelDir = Path.of(a.require("eval", "model"));
    String data = a.require("eval", "data");
    ModelConfig model = ModelConfigs.load(modelDir);
    WorkerSpec spec =
        new WorkerSpec(
            modelDir.toAbsolutePath().toString(),
            a.get("precision", "fp32", Precision::parse),
            a.get("device", "auto"),
            a.get("attention", "auto", AttentionKernels::kind),
            Math.max(0, model.padTokenId()),
            a.getPositive("micro-batch", 8),
            0,
            false);
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      JavaRDD<Sample> rows = TokenizedData.read(spark, data).javaRDD().map(TokenizedData::toSample);
      AdapterSet adapters =
          a.has("adapter")
              ? PeftAdapters.load(Path.of(a.get("adapter", null)), model, m).adapters()
              : null;
      try (SparkEvaluator eval =
          new SparkEvaluator(
              JavaSparkContext.fromSparkContext(spark.sparkContext()),
              rows,
              spec,
              a.getPositive("partitions", 1))) {
        return eval.evaluate(adapters);
      }
    }
  }
}
