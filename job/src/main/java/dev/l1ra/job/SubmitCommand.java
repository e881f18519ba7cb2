package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.core.config.SparkSection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Builds the spark-submit command for a config (used by {@code submit.sh}; {@code --dry-run} prints
 * it): master and deploy mode, one task per executor, executor GPUs with Spark's resource
 * scheduling and discovery script, the JVM options Java 17 needs for Spark 3.5, and the environment
 * DJL needs on executors.
 */
public final class SubmitCommand {
  /** The --add-opens list Spark's own launcher passes on Java 17 (needed by Spark 3.5). */
  static final String JAVA17_OPENS =
      "--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED"
          + " --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED"
          + " --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED"
          + " --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED"
          + " --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
          + " --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED"
          + " --add-opens=java.base/sun.util.calendar=ALL-UNNAMED";

  private SubmitCommand() {}

  public static void main(String[] argv) {
    try {
      if (argv.length < 2) {
        throw new IllegalArgumentException(
            "usage: SubmitCommand JAR CONFIG.yaml [--set k=v ...] [more job args]");
      }
      RunConfig cfg = RunConfigs.load(Path.of(argv[1]), sets(argv));
      System.out.println(
          String.join(
              " ", command(argv[0], argv[1], cfg, Arrays.copyOfRange(argv, 2, argv.length))));
    } catch (IllegalArgumentException e) {
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

  static List<String> command(String jar, String config, RunConfig cfg, String[] extra) {
    SparkSection s = cfg.spark();
    if (s.master().startsWith("local")) {
      throw new IllegalArgumentException(
          "spark.master is "
              + s.master()
              + "; for a cluster set it to yarn, spark://HOST:7077 or k8s://..., or run with --local");
    }
    String jvm = JAVA17_OPENS + " -Dai.djl.offline=true -XX:+UseParallelGC";
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
    conf(c, "spark.executor.instances", s.executors());
    conf(c, "spark.task.cpus", "1");
    conf(
        c,
        "spark.executor.cores",
        "1"); // one training task per executor JVM (one GradientCollector)
    if (s.executorGpus() > 0) {
      conf(c, "spark.executor.resource.gpu.amount", s.executorGpus());
      conf(c, "spark.task.resource.gpu.amount", s.executorGpus());
      conf(c, "spark.executor.resource.gpu.discoveryScript", s.gpuDiscoveryScript());
    }
    if (s.executorMemory() != null) {
      conf(c, "spark.executor.memory", s.executorMemory());
    }
    conf(c, "spark.driver.extraJavaOptions", "'" + jvm + "'");
    conf(c, "spark.executor.extraJavaOptions", "'" + jvm + "'");
    conf(c, "spark.executorEnv.OPT_OUT_TRACKING", "true");
    conf(c, "spark.executorEnv.MKL_DYNAMIC", "FALSE");
    conf(c, "spark.task.maxFailures", "4");
    s.conf().forEach((k, v) -> conf(c, k, v));
    c.add(jar);
    c.add("run");
    c.add(config);
    c.addAll(Arrays.asList(extra));
    return c.stream()
        .map(a -> a.contains(" ") && !a.startsWith("'") ? "'" + a + "'" : a)
        .collect(Collectors.toList());
  }

  private static void conf(List<String> c, String k, Object v) {
    c.add("--conf");
    c.add(k + "=" + v);
  }
}
