package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.safetensors.SafetensorsException;
import dev.l1ra.data.SparkSessions;
import dev.l1ra.job.run.StopSignals;
import dev.l1ra.model.train.StoppedException;
import dev.l1ra.model.train.Trainer;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code l1ra <command> [options]}. Commands: {@code run} (default: prep → train →
 * eval → export for a config), {@code train}, {@code eval}, {@code prep}, {@code bench}, {@code
 * bench-dp}, {@code compress}, {@code memory}, {@code parity}, {@code generate}, {@code compare}.
 * Bad input ends with a one-line message and exit code 2, also when a Spark task raised it; nothing
 * written earlier is lost. SIGTERM or SIGINT during training stops at the next step with a
 * checkpoint and one line saying how to resume (exit code 143 or 130).
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] argv) {
    StopSignals.install();
    System.exit(run(argv));
  }

  /** Runs a command line; returns the exit code (other failures propagate with their trace). */
  static int run(String[] argv) {
    try {
      return dispatch(argv);
    } catch (StoppedException e) {
      System.err.println("stopped by " + e.getMessage() + ". Resume with: " + resumeCommand(argv));
      return StopSignals.exitCode(e.reason());
    } catch (Exception e) { // also Spark's SparkException, which Java does not see declared
      Throwable input = inputError(e);
      if (input == null) {
        throw e;
      }
      LOG.debug("failed", e);
      System.err.println("error: " + input.getMessage());
      return 2;
    }
  }

  /**
   * The error about the user's input, files or run in a failure's cause chain (a Spark task's error
   * arrives wrapped in Spark's job failure), or null: its message names the input and the fix.
   */
  static Throwable inputError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IllegalArgumentException
          || t instanceof IllegalStateException
          || t instanceof SafetensorsException
          || t instanceof Trainer.DivergedException
          || t instanceof UncheckedIOException) {
        return t;
      }
    }
    return null;
  }

  /**
   * The command that resumes a stopped run: this one without {@code --fresh}, after the launcher
   * that started it when known ({@code L1RA_LAUNCHER}, set by submit.sh).
   */
  static String resumeCommand(String[] argv) {
    String args =
        Arrays.stream(argv)
            .filter(a -> !a.equals("--fresh"))
            .map(Main::shellQuote)
            .collect(Collectors.joining(" "));
    String launcher = System.getenv("L1RA_LAUNCHER");
    return launcher == null || launcher.isBlank()
        ? "the same command without --fresh (arguments: " + args + ")"
        : launcher + " " + args;
  }

  private static String shellQuote(String a) {
    return a.matches("[A-Za-z0-9_./:=@%+,-]+") ? a : "'" + a.replace("'", "'\\''") + "'";
  }

  static int dispatch(String[] argv) {
    String cmd =
        argv.length == 0 || argv[0].startsWith("--") || argv[0].endsWith(".yaml") ? "run" : argv[0];
    String[] rest =
        cmd.equals("run") && (argv.length == 0 || !argv[0].equals("run"))
            ? argv
            : Arrays.copyOfRange(argv, 1, argv.length);
    if (argv.length > 0 && Help.isHelp(argv[0])) {
      System.out.print(Help.overview());
      return 0;
    }
    if (Arrays.stream(rest).anyMatch(Help::isHelp)) {
      System.out.print(Help.of(cmd));
      return 0;
    }
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
      case "bench-dp" -> {
        return BenchDpCommand.run(rest);
      }
      case "compress" -> {
        return CompressCommand.run(rest);
      }
      case "memory" -> {
        return MemoryCommand.run(rest);
      }
      case "parity" -> {
        return ParityCommand.run(rest);
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
                  + "\"; commands: run (default), train, eval, prep, bench, bench-dp, compress,"
                  + " memory, parity, generate, compare");
    }
  }

  /** {@code run} / {@code train} in a Spark session of their own, stopped at the end. */
  private static int train(String cmd, String[] argv) {
    Args a = runArgs(cmd, argv);
    RunConfig cfg = RunConfigs.load(Path.of(a.configFile(cmd, "conf/quickstart.yaml")), a.sets());
    SparkSession spark =
        SparkSessions.create("l1ra-" + cfg.run().name(), cfg.spark().master(), cfg.spark().conf());
    try {
      System.out.println(train(spark, cmd, a, cfg));
    } finally {
      spark.stop();
    }
    return 0;
  }

  /** The options of {@code run} and {@code train}. */
  static Args runArgs(String cmd, String[] argv) {
    return Args.parse(cmd, argv, Set.of("config"), Set.of("fresh"));
  }

  /**
   * {@code run}: data-prep when the config asks for it, then training, eval and export ({@code
   * train}: training, eval and export), on the given session, which stays open.
   *
   * @return the summary line (one JSON object)
   */
  static String train(SparkSession spark, String cmd, Args a, RunConfig cfg) {
    BuildInfo.requireRuntime(spark.version(), BuildInfo.runtimeScala());
    if (cmd.equals("run")) {
      Quickstart.prepareModel(cfg);
      PrepCommand.runFromConfig(spark, cfg);
    } else {
      Quickstart.requireGenerated(cfg, a.configFile(cmd, "conf/quickstart.yaml"));
    }
    TrainJob.Outcome o = TrainJob.runWithBaseline(spark, cfg, a.has("fresh"));
    return o.finished() != null
        ? Summaries.finished(o.finished())
        : Summaries.json(o.run(), o.baseline());
  }
}
