package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.safetensors.SafetensorsException;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.model.train.Trainer;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code l1ra <command> [options]}. Commands: {@code run} (default: prep → train →
 * eval → export for a config), {@code train}, {@code eval}, {@code prep}, {@code bench}, {@code
 * compress}, {@code memory}, {@code generate}, {@code compare}. Bad input ends with a one-line
 * message and exit code 2; nothing written earlier is lost.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] argv) {
    int code;
    try {
      code = dispatch(argv);
    } catch (IllegalArgumentException
        | IllegalStateException
        | SafetensorsException
        | Trainer.DivergedException
        | UncheckedIOException e) {
      // errors about the user's input, files or run: the message names them and the fix
      LOG.debug("failed", e);
      System.err.println("error: " + e.getMessage());
      code = 2;
    }
    System.exit(code);
  }

  static int dispatch(String[] argv) {
    String cmd =
        argv.length == 0 || argv[0].startsWith("--") || argv[0].endsWith(".yaml") ? "run" : argv[0];
    String[] rest =
        cmd.equals("run") && (argv.length == 0 || !argv[0].equals("run"))
            ? argv
            : Arrays.copyOfRange(argv, 1, argv.length);
    switch (cmd) {
      case "run", "train" -> {
        return train(cmd, rest);
      }
      case "eval" -> {
        return EvalCommand.run(rest);
      }
      case "prep" -> {
        return PrepCommand.run(rest);
      }
      case "bench" -> {
        return BenchCommand.run(rest);
      }
      case "compress" -> {
        return CompressCommand.run(rest);
      }
      case "memory" -> {
        return MemoryCommand.run(rest);
      }
      case "generate" -> {
        return GenerateCommand.run(rest);
      }
      case "compare" -> {
        return CompareCommand.run(rest);
      }
      default ->
          throw new IllegalArgumentException(
              "unknown command \""
                  + cmd
                  + "\"; commands: run (default), train, eval, prep, bench, compress, memory,"
                  + " generate, compare");
    }
  }

  /** {@code run}: data-prep when the config asks for it, then training, eval and export. */
  private static int train(String cmd, String[] argv) {
    Args a = Args.parse(cmd, argv, Set.of("config", "fail-once"), Set.of("fresh"));
    String file = a.configFile(cmd, "conf/quickstart.yaml");
    RunConfig cfg = RunConfigs.load(Path.of(file), a.sets());
    SparkSession spark =
        SparkSessions.create("l1ra-" + cfg.run().name(), cfg.spark().master(), cfg.spark().conf());
    try {
      if (cmd.equals("run")) {
        Quickstart.prepareModel(cfg);
        PrepCommand.runFromConfig(spark, cfg);
      } else {
        Quickstart.requireGenerated(cfg, file);
      }
      TrainJob.Result r = TrainJob.run(spark, cfg, a.has("fresh"), a.getInt("fail-once", -1));
      TrainJob.Result base =
          cfg.run().baseline() && !cfg.method().equals("lora") ? Baseline.run(spark, cfg, r) : null;
      System.out.println(Summaries.json(r, base));
    } finally {
      spark.stop();
    }
    return 0;
  }
}
