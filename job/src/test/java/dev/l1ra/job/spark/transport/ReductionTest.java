package dev.l1ra.job.spark.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * The reduction on local[2] under Java and Kryo serialization: payloads broadcast and travel as
 * task results and shuffle records; every plan gives the fixed-order sum, bit for bit, whatever
 * order the tasks finish in ({@link ReductionChecks}).
 */
class ReductionTest {
  @Test
  void javaSerializer() {
    try (JavaSparkContext sc = ReductionChecks.context("java")) {
      ReductionChecks.fixedOrderSums(sc);
      ReductionChecks.largeAndHalfPrecision(sc);
    }
  }

  /**
   * Kryo, in a JVM with Spark's --add-opens list (conf/java17-opens.args, as submit.sh and
   * SubmitCommand pass it): Spark 4's Kryo broadcasts of its own ByteBuffers need java.nio open.
   */
  @Test
  void kryoSerializer() throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("@" + opensFile());
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(o -> !o.startsWith("-agentlib") && !o.startsWith("-javaagent"))
        .forEach(cmd::add);
    cmd.addAll(
        List.of(
            "-cp", System.getProperty("java.class.path"), ReductionChecks.class.getName(), "kryo"));
    Path log = Files.createTempFile("reduction-kryo", ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the Kryo checks did not finish");
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("reduction checks passed under kryo"), out);
    Files.delete(log);
  }

  private static Path opensFile() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path f = d.resolve("conf/java17-opens.args");
      if (Files.isRegularFile(f)) {
        return f;
      }
    }
    throw new IllegalStateException("conf/java17-opens.args not found above the working directory");
  }
}
