package dev.l1ra.job;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** The command line of a child JVM like this test JVM: same java, JVM options and classpath. */
final class ChildJvm {
  private ChildJvm() {}

  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** The test JVM's own options (the build's argLine: offline DJL, Spark 3.5's --add-opens). */
  static List<String> options() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(o -> !o.startsWith("-agentlib") && !o.startsWith("-javaagent"))
        .toList();
  }

  static List<String> command(String mainClass, List<String> args) {
    List<String> c = new ArrayList<>();
    c.add(java());
    c.addAll(options());
    c.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    c.addAll(args);
    return c;
  }
}
