package dev.l1ra.job;

import ai.djl.ndarray.NDManager;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.job.data.TokenizedData;
import dev.l1ra.job.spark.SparkEvaluator;
import dev.l1ra.job.spark.WorkerSpec;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.train.Evaluator;
import java.nio.file.Path;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Scoring a Hugging Face model folder, optionally with a PEFT LoRA adapter, on tokenized Parquet as
 * a Spark job: learned-token-weighted NLL with Hugging Face's label shift. Used by the {@code eval}
 * and {@code compress} commands.
 *
 * @param adapter a PEFT adapter folder, or null for the base model
 */
record Scoring(
    Path model,
    String data,
    Path adapter,
    Precision precision,
    String device,
    AttentionKind attention,
    int microBatch,
    int partitions) {

  /** The command-line flags a scoring reads (eval's and compress's). */
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

  /** The scoring the parsed flags of {@code command} ask for. */
  static Scoring of(String command, Args a) {
    return new Scoring(
        Path.of(a.require(command, "model")),
        a.require(command, "data"),
        a.has("adapter") ? Path.of(a.get("adapter", null)) : null,
        a.get("precision", "fp32", Precision::parse),
        a.get("device", "auto"),
        a.get("attention", "auto", AttentionKernels::kind),
        a.getPositive("micro-batch", 8),
        a.getPositive("partitions", 1));
  }

  /** The same scoring with another adapter. */
  Scoring withAdapter(Path other) {
    return new Scoring(model, data, other, precision, device, attention, microBatch, partitions);
  }

  /** Runs it as a Spark job. */
  Evaluator.Result run(SparkSession spark) {
    ModelConfig config = ModelConfigs.load(model);
    WorkerSpec spec =
        new WorkerSpec(
            model.toAbsolutePath().toString(),
            precision,
            device,
            attention,
            Math.max(0, config.padTokenId()),
            microBatch,
            0,
            false);
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      JavaRDD<Sample> rows = TokenizedData.read(spark, data).javaRDD().map(TokenizedData::toSample);
      AdapterSet adapters =
          adapter == null ? null : PeftAdapters.load(adapter, config, m).adapters();
      try (SparkEvaluator eval =
          new SparkEvaluator(
              JavaSparkContext.fromSparkContext(spark.sparkContext()), rows, spec, partitions)) {
        return eval.evaluate(adapters);
      }
    }
  }
}
