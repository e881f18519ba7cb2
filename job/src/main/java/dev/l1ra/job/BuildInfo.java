package dev.l1ra.job;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import scala.util.Properties;

/**
 * The Spark line this jar was compiled for ({@code build.properties}, written by the build), and
 * the check that the Spark it runs on is the same line: a jar built for Spark 4 / Scala 2.13 on a
 * Spark 3.5 / Scala 2.12 cluster (or the reverse) fails later with a linkage error that names
 * neither; this names both and the build command that fits.
 *
 * @param sparkVersion e.g. 4.2.0 or 3.5.8
 * @param scalaBinary 2.13 or 2.12
 */
record BuildInfo(String sparkVersion, String scalaBinary) {
  private static final String RESOURCE = "build.properties";

  /** What this jar was built for. */
  static BuildInfo current() {
    Map<String, String> p = properties();
    return new BuildInfo(p.get("spark.version"), p.get("scala.binary.version"));
  }

  /** The project's version as built, e.g. 0.1.0-SNAPSHOT. */
  static String projectVersion() {
    return properties().getOrDefault("project.version", "unknown");
  }

  /**
   * The git commit of this code: as recorded by the build ({@code -Dgit.commit=...}, which
   * submit.sh passes), else of the repository the classes are in ({@code git rev-parse HEAD}, with
   * {@code -dirty} when tracked files differ from it), else {@code unknown} (e.g. a cluster jar
   * built without it).
   */
  static String gitCommit() {
    String built = properties().getOrDefault("git.commit", "unknown");
    if (!built.equals("unknown") && !built.isBlank()) {
      return built;
    }
    try {
      File here =
          new File(BuildInfo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      File dir = here.isDirectory() ? here : here.getParentFile();
      String head = git(dir, "rev-parse", "HEAD");
      if (head.isEmpty()) {
        return "unknown";
      }
      return git(dir, "status", "--porcelain", "--untracked-files=no").isEmpty()
          ? head
          : head + "-dirty";
    } catch (IOException | URISyntaxException | RuntimeException e) {
      return "unknown";
    }
  }

  /** A git command's output in {@code dir} (empty when it fails or git is missing). */
  private static String git(File dir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    try {
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static Map<String, String> properties() {
    try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            RESOURCE + " is missing from the classpath (dev/l1ra/job/); rebuild the job module");
      }
      Map<String, String> p = new HashMap<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        int eq = line.indexOf('=');
        if (!line.startsWith("#") && eq > 0) {
          p.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e, e);
    }
  }

  /** The Scala library version this JVM runs, e.g. 2.12.18. */
  static String runtimeScala() {
    return Properties.versionNumberString();
  }

  /**
   * Fails when the running Spark is another line (3.5, 4) or Scala binary version than this jar's.
   *
   * @param spark the running Spark's version ({@code SparkSession.version()})
   * @param scala the running Scala library's version
   */
  static void requireRuntime(String spark, String scala) {
    current().check(spark, scala);
  }

  void check(String spark, String scala) {
    if (!line(spark).equals(line(sparkVersion)) || !scala.startsWith(scalaBinary + ".")) {
      throw new IllegalStateException(
          "this jar is built for Spark "
              + sparkVersion
              + " / Scala "
              + scalaBinary
              + " but runs on Spark "
              + spark
              + " / Scala "
              + scala
              + "; build the jar for this Spark: "
              + (spark.startsWith("3.")
                  ? "mvn -B -Pspark-3.5,cluster -DskipTests package (job/target/spark-3.5/l1ra-spark-job.jar)"
                  : "mvn -B -Pcluster -DskipTests package (job/target/l1ra-spark-job.jar)"));
    }
  }

  /** The binary-compatible line of a Spark version: 3.5 for 3.5.x, 4 for any 4.x. */
  static String line(String version) {
    String[] p = version.split("\\.");
    return p[0].equals("3") && p.length > 1 ? p[0] + "." + p[1] : p[0];
  }
}
