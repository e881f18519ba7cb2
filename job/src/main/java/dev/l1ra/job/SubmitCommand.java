package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.config.SparkSection;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Builds the spark-submit command for a config as an argument list (used by {@code submit.sh}):
 * master and deploy mode, one task per executor, executor GPUs with Spark's resource scheduling and
 * discovery script, the JVM options Java 17 needs for Spark 3.5, and the environment DJL needs on
 * executors.
 *
 * <p>{@code SubmitCommand JAR CONFIG [job args]} prints the arguments NUL-separated (submit.sh
 * reads them into an array and runs them; no shell parsing in between); {@code SubmitCommand
 * --shell JAR CONFIG ...} prints one shell-quoted line that a shell turns back into exactly the
 * same list ({@code --dry-run}).
 */
public final class SubmitCommand {
  /** Spark settings whose value is a list of JVM options: ours go first, the config's after. */
  private static final List<String> JAVA_OPTIONS =
      List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions");

  /** Words a POSIX shell leaves as they are (no quoting needed). */
  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=,@%+-]+");

  private SubmitCommand() {}

  public static void main(String[] argv) {
    boolean shell = argv.length > 0 && argv[0].equals("--shell");
    String[] args = shell ? Arrays.copyOfRange(argv, 1, argv.length) : argv;
    try {
      if (args.length < 2) {
        throw new IllegalArgumentException(
            "usage: SubmitCommand [--shell] JAR CONFIG.yaml [--set k=v ...] [more job args]");
      }
      RunConfig cfg = RunConfigs.load(Path.of(args[1]), sets(args));
      List<String> cmd = command(args[0], args[1], cfg, Arrays.copyOfRange(args, 2, args.length));
      PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
      if (shell) {
        out.println(shellLine(cmd));
      } else {
        cmd.forEach(a -> out.print(a + '\0'));
      }
      out.flush();
    } catch (IllegalArgumentException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  private static List<String> sets(String[] argv) {
    List<String> out = new ArrayList<>();
    for (int i = 2; i + 1 < argv.length; i++) {
      if (argv[i].equals("--set")) {
        out.add(argv[i + 1]);
      }
    }
    return out;
  }

  /** The spark-submit argument list, one element per argument, nothing quoted. */
  static List<String> command(String jar, String config, RunConfig cfg, String[] extra) {
    SparkSection s = cfg.spark();
    if (s.master().startsWith("local")) {
      throw new IllegalArgumentException(
          "spark.master is "
              + s.master()
              + "; for a cluster set it to yarn, spark://HOST:7077 or k8s://..., or run with --local");
    }
    List<String> c =
        new ArrayList<>(
            List.of(
                "spark-submit",
                "--class",
                Main.class.getName(),
                "--master",
                s.master(),
                "--deploy-mode",
                s.deployMode().toString()));
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.executor.instances", String.valueOf(s.executors()));
    if (s.master().startsWith("spark://")) {
      // standalone ignores executor.instances: cores.max / executor.cores executors
      conf.put("spark.cores.max", String.valueOf(s.executors()));
    }
    conf.put("spark.task.cpus", "1");
    conf.put("spark.executor.cores", "1"); // one training task per executor JVM (one collector)
    if (s.executorGpus() > 0) {
      conf.put("spark.executor.resource.gpu.amount", String.valueOf(s.executorGpus()));
      conf.put("spark.task.resource.gpu.amount", String.valueOf(s.executorGpus()));
      conf.put("spark.executor.resource.gpu.discoveryScript", s.gpuDiscoveryScript());
    }
    if (s.executorMemory() != null) {
      conf.put("spark.executor.memory", s.executorMemory());
    }
    String jvm = String.join(" ", jvmOptions());
    JAVA_OPTIONS.forEach(k -> conf.put(k, jvm));
    conf.put("spark.executorEnv.OPT_OUT_TRACKING", "true");
    conf.put("spark.executorEnv.MKL_DYNAMIC", "FALSE");
    conf.put("spark.task.maxFailures", "4");
    s.conf()
        .forEach(
            (k, v) ->
                conf.merge(
                    k,
                    v,
                    (ours, theirs) -> JAVA_OPTIONS.contains(k) ? ours + " " + theirs : theirs));
    conf.forEach(
        (k, v) -> {
          c.add("--conf");
          c.add(k + "=" + v);
        });
    c.add(jar);
    c.add("run");
    c.add(config);
    c.addAll(Arrays.asList(extra));
    return c;
  }

  /** The driver's and executors' JVM options: Java 17 module options, offline DJL, the GC. */
  static List<String> jvmOptions() {
    List<String> o = new ArrayList<>(java17Opens());
    o.add("-Dai.djl.offline=true");
    o.add("-XX:+UseParallelGC");
    return o;
  }

  /**
   * The {@code --add-opens} list Spark's own launcher passes on Java 17, from {@code
   * conf/java17-opens.args} (packaged into the job jar; the same file submit.sh and the Spark 3.5
   * test build pass to java as an argument file).
   */
  static List<String> java17Opens() {
    String name = "java17-opens.args";
    try (InputStream in = SubmitCommand.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(
            name + " is missing from the classpath (dev/l1ra/job/); rebuild the job module");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + ": " + e, e);
    }
  }

  /** One line that a POSIX shell splits back into exactly {@code args}. */
  static String shellLine(List<String> args) {
    return args.stream().map(SubmitCommand::shellQuote).collect(Collectors.joining(" "));
  }

  /** A word as a POSIX shell reads it back: unquoted when safe, else single-quoted. */
  static String shellQuote(String arg) {
    if (SHELL_SAFE.matcher(arg).matches()) {
      return arg;
    }
    return "'" + arg.replace("'", "'\\''") + "'";
  }
}
