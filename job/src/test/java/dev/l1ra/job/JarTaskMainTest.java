package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Databricks JAR-task entry point in a host that owns the JVM and the Spark session (as a
 * Databricks driver does): a task with a bad config fails by throwing, with the CLI's one-line
 * message, and a real run (prep, train, export on a generated tiny model) returns; after both the
 * host's session is still open and the host, not the task, ends the JVM.
 */
class JarTaskMainTest {
  @TempDir Path dir;

  @Test
  void failuresThrowAndTheSessionAndJvmOutliveEveryTask() throws Exception {
    Path config = dir.resolve("tiny.yaml");
    Files.writeString(
        config,
        """
        run: {name: jar-task, output_dir: %1$s/runs, seed: 3, baseline: false}
        model: {path: %1$s/model, generate: tiny, precision: fp32, device: cpu, attention: plain}
        data:
          train: %1$s/data/prepared/train
          eval: %1$s/data/prepared/eval
          sample: {path: %1$s/data/sample.jsonl, rows: 80, seed: 5}
          prep: {input: %1$s/data/sample.jsonl, tokenizer: %1$s/model, template: llama3, seq_len: 160, out: %1$s/data/prepared, eval_fraction: 0.1}
        method: lora
        lora: {r: 2, alpha: 4, dropout: 0.0, init: gaussian}
        train: {steps: 3, global_batch: 4, micro_batch: 4, lr: 1.0e-3, log_every: 1}
        spark: {master: "local[2]", partitions: 1}
        """
            .formatted(dir));
    List<String> cmd =
        ChildJvm.command(
            JarTaskHost.class.getName(),
            List.of(
                JarTaskMain.class.getName(),
                "---",
                "run",
                config.toString(),
                "--set",
                "train.lr_typo=1",
                "---",
                "run",
                config.toString()));
    Path log = dir.resolve("host.log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("MKL_DYNAMIC", "FALSE");
    Process p = pb.start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the host did not finish");
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "the JVM was ended by the task, not the host:\n" + out);
    assertTrue(out.contains("host done"), out);
    assertTrue(
        out.contains("task 1 threw ") && out.contains("config key train.lr_typo is unknown"),
        "a bad config fails the task by throwing its one-line message:\n" + out);
    assertTrue(out.contains("task 1 session active, the host's"), out);
    assertTrue(out.contains("task 2 returned"), out);
    assertTrue(out.contains("task 2 session active, the host's"), out);
    assertTrue(out.contains("\"run\":\"" + dir + "/runs/jar-task\""), "summary line:\n" + out);
    assertTrue(Files.isRegularFile(dir.resolve("runs/jar-task/report.json")));
    assertTrue(Files.isRegularFile(dir.resolve("runs/jar-task/adapter/adapter_model.safetensors")));
  }
}
