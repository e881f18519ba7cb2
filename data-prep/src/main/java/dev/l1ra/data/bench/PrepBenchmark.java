package dev.l1ra.data.bench;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.hf.ChatFormat;
import dev.l1ra.data.CharTokenizer;
import dev.l1ra.data.PrepJob;
import dev.l1ra.data.PrepResult;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.data.sample.SampleGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * Data-preparation throughput (a program, not a test): generates the synthetic sample, prepares it
 * at local[1] and local[2] and prints tokens/s overall and per core, one JSON line per run. Usage:
 * {@code PrepBenchmark [rows] [tokenizer-dir]} (defaults: 20000 rows, the character tokenizer; pass
 * a real tokenizer.json folder for subword numbers).
 */
public final class PrepBenchmark {
  private PrepBenchmark() {}

  public static void main(String[] argv) throws IOException {
    int rows = argv.length > 0 ? Integer.parseInt(argv[0]) : 20_000;
    Path work = Files.createTempDirectory("l1ra-prep-bench");
    Path tok = argv.length > 1 ? Path.of(argv[1]) : work.resolve("tok");
    if (argv.length <= 1) {
      Files.createDirectories(tok);
      CharTokenizer.write(tok);
    }
    Path input = work.resolve("sample.jsonl");
    SampleGenerator.writeJsonl(new SampleGenerator().generate(rows, 1), input);
    for (int cores : new int[] {1, 2}) {
      SparkSession spark =
          SparkSessions.create(
              "prep-bench",
              "local[" + cores + "]",
              Map.of("spark.sql.shuffle.partitions", String.valueOf(2 * cores)));
      try {
        run(spark, input, tok, work.resolve("warm-" + cores), cores, rows, false);
        run(spark, input, tok, work.resolve("out-" + cores), cores, rows, true);
      } finally {
        spark.stop();
      }
    }
  }

  private static void run(
      SparkSession spark, Path input, Path tok, Path out, int cores, int rows, boolean print) {
    PrepSection cfg =
        new PrepSection(
            input.toString(),
            PrepSection.Format.JSONL,
            Map.of(),
            tok.toString(),
            ChatFormat.LLAMA3,
            null,
            512,
            PrepSection.Mode.TRUNCATE,
            32_000,
            0.05,
            0.05,
            0.0,
            "l1ra",
            2 * cores,
            1.0,
            out.toString());
    long t0 = System.nanoTime();
    PrepResult r = PrepJob.run(spark, cfg);
    double s = (System.nanoTime() - t0) / 1e9;
    if (print) {
      System.out.println(
          String.format(
              Locale.ROOT,
              "{\"master\":\"local[%d]\",\"rows\":%d,\"tokens\":%d,\"seconds\":%.2f,\"tokens_per_s\":%.0f,\"tokens_per_s_per_core\":%.0f,\"rows_per_s\":%.0f}",
              cores,
              rows,
              r.tokens().tokens(),
              s,
              r.tokens().tokens() / s,
              r.tokens().tokens() / s / cores,
              rows / s));
    }
  }
}
