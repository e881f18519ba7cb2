package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.data.SparkSessions;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * {@code eval --model DIR --data PATH [--adapter DIR]}: scores a Hugging Face model folder,
 * optionally with a PEFT LoRA adapter, on tokenized Parquet; the last line printed is one JSON
 * object with {@code loss} (learned-token-weighted mean over the whole set, labels shifted as
 * Hugging Face does), {@code perplexity} and {@code tokens}.
 */
final class EvalCommand {
  private EvalCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("eval", argv, Scoring.FLAGS, Set.of());
    SparkSession spark = SparkSessions.create("l1ra-eval", a.get("master", "local[2]"), Map.of());
    try {
      System.out.println(
          Summaries.eval(
              Scoring.of("eval", a).run(spark),
              a.require("eval", "model"),
              a.get("adapter", null),
              a.require("eval", "data")));
    } finally {
      spark.stop();
    }
    return 0;
  }
}
