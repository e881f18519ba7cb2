package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import dev.l1ra.data.KryoRecords;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point for hosts that own the JVM and the Spark session: Databricks JAR tasks ({@code
 * spark_jar_task.main_class_name}), and any other that calls {@code main} inside its own driver.
 * {@code [run|train] CONFIG [--set key=value ...] [--fresh]}, as the CLI's {@code run} and {@code
 * train}.
 *
 * <p>Unlike {@link Main} it takes the host's session ({@code SparkSession.builder().getOrCreate()};
 * the cluster's Spark settings apply, the config's {@code spark.master} and {@code spark.conf} do
 * not), never stops it and never exits the JVM: Databricks forbids both (other tasks share the
 * context; {@code System.exit} makes the run fail with no result). A failure is thrown, with the
 * one-line message the CLI would print; the host marks the task failed.
 */
public final class JarTaskMain {
  private static final Logger LOG = LoggerFactory.getLogger(JarTaskMain.class);

  private JarTaskMain() {}

  public static void main(String[] argv) {
    boolean named = argv.length > 0 && (argv[0].equals("run") || argv[0].equals("train"));
    if (argv.length > 0 && !named && !argv[0].endsWith(".yaml") && !argv[0].startsWith("--")) {
      throw new IllegalArgumentException(
          "a JAR task runs `run CONFIG` or `train CONFIG`, got \""
              + argv[0]
              + "\"; eval, prep, compress, bench and memory are CLI commands (./submit.sh --local)");
    }
    String cmd = named ? argv[0] : "run";
    String[] rest = named ? Arrays.copyOfRange(argv, 1, argv.length) : argv;
    Args a = Main.runArgs(cmd, rest);
    RunConfig cfg = RunConfigs.load(Path.of(a.configFile(cmd, "CONFIG.yaml")), a.sets());
    SparkSession spark = SparkSession.builder().getOrCreate();
    KryoRecords.requireUsable(spark.sparkContext().getConf());
    LOG.info(
        "{} {} on the host's Spark {} (session kept open)", cmd, cfg.run().name(), spark.version());
    try {
      System.out.println(Main.train(spark, cmd, a, cfg));
    } catch (Exception e) { // also Spark's SparkException, which Java does not see declared
      if (Main.inputError(e) instanceof RuntimeException input && input != e) {
        throw input; // a task's own one-line error rather than Spark's job failure around it
      }
      throw e;
    }
  }
}
