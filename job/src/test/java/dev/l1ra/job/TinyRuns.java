package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.job.spark.TaskFaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * Short L1RA runs on a generated tiny model and the synthetic sample (prepared once per folder): 4
 * steps of 8 samples, checkpoints every 2, eval at the end, no baseline.
 */
final class TinyRuns {
  private TinyRuns() {}

  /** Writes {@code dir/base.yaml}, generates the model and sample, prepares the data. */
  static Path setUp(SparkSession spark, Path dir) throws IOException {
    Path base = dir.resolve("base.yaml");
    Files.writeString(
        base,
        """
        run: {name: t, output_dir: %1$s/runs, seed: 3, baseline: false}
        model: {path: %1$s/model, generate: tiny, precision: fp32, device: cpu, attention: plain}
        data:
          train: %1$s/data/prepared/train
          eval: %1$s/data/prepared/eval
          sample: {path: %1$s/data/sample.jsonl, rows: 160, seed: 5}
          prep: {input: %1$s/data/sample.jsonl, tokenizer: %1$s/model, template: llama3, seq_len: 160, out: %1$s/data/prepared, eval_fraction: 0.1}
        method: l1ra
        lora: {r: 4, alpha: 8, dropout: 0.0, init: gaussian}
        train: {steps: 4, global_batch: 8, micro_batch: 4, lr: 3.0e-3, log_every: 2, checkpoint_every: 2}
        l1ra: {lambda: 0.5, eta_c: 5.0e-2, rank_update_steps: 2, prune_threshold: 0.9}
        spark: {master: "local[2]", partitions: 1}
        """
            .formatted(dir));
    RunConfig cfg = RunConfigs.load(base, List.of());
    Quickstart.prepareModel(cfg);
    PrepCommand.runFromConfig(spark, cfg);
    return base;
  }

  /** The base config as run {@code name} with overrides. */
  static RunConfig config(Path base, String name, String... sets) {
    List<String> all = new ArrayList<>(Arrays.asList(sets));
    all.add("run.name=" + name);
    return RunConfigs.load(base, all);
  }

  /** Trains run {@code name}; with {@code failOnce} ≥ 0 one task attempt fails at that step. */
  static RunResult train(
      SparkSession spark, Path base, String name, List<String> sets, boolean fresh, int failOnce) {
    List<String> all = new ArrayList<>(sets);
    all.add("run.name=" + name);
    TaskFaults.failFirstAttemptAt(failOnce);
    try {
      return TrainJob.run(spark, RunConfigs.load(base, all), fresh);
    } finally {
      TaskFaults.failFirstAttemptAt(-1);
    }
  }

  /**
   * The two runs' adapters have the same tensors, differing by at most {@code tol} (0: bit for
   * bit).
   */
  static void assertSameAdapter(Path want, Path got, double tol, String what) throws IOException {
    try (SafetensorsFile x =
            SafetensorsFile.open(want.resolve("adapter/adapter_model.safetensors"));
        SafetensorsFile y =
            SafetensorsFile.open(got.resolve("adapter/adapter_model.safetensors"))) {
      assertEquals(new TreeSet<>(x.names()), new TreeSet<>(y.names()), what);
      for (String n : x.names()) {
        assertArrayEquals(x.info(n).shape(), y.info(n).shape(), what + ": " + n);
        if (tol == 0) {
          assertArrayEquals(x.floats(n), y.floats(n), what + ": adapter tensor " + n);
        } else {
          assertArrayEquals(x.floats(n), y.floats(n), (float) tol, what + ": adapter tensor " + n);
        }
      }
    }
  }

  /** One column of a CSV file, header aside. */
  static List<String> column(Path csv, int col) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(csv)) {
      if (!line.startsWith("step")) {
        out.add(line.split(",", -1)[col]);
      }
    }
    return out;
  }

  /** The names in a folder, sorted. */
  static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
