package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * {@code submit.sh} itself, run by bash in a copy of the project's layout with stand-ins for {@code
 * mvn} and {@code java} on the PATH that record how they were called: when it builds, and what it
 * starts.
 */
class SubmitScriptTest {
  static final Path ROOT = Path.of("..");
  static final String JAR = "job/target/l1ra-job-0.1.0-SNAPSHOT.jar";

  @TempDir Path dir;

  /** The launcher, its JVM options, one source file and one pom, and the two stand-ins. */
  private void layout() throws IOException {
    Files.copy(ROOT.resolve("submit.sh"), dir.resolve("submit.sh"));
    Files.createDirectories(dir.resolve("conf"));
    Files.copy(ROOT.resolve("conf/java17-opens.args"), dir.resolve("conf/java17-opens.args"));
    Files.writeString(dir.resolve("pom.xml"), "<project/>");
    Files.createDirectories(dir.resolve("core/src/main/java"));
    Files.writeString(dir.resolve("core/src/main/java/A.java"), "class A {}");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    script(
        bin.resolve("mvn"),
        "echo \"$*\" >> mvn.log\nmkdir -p job/target\ntouch "
            + JAR
            + "\necho /spark.jar > job/target/classpath.txt");
    script(bin.resolve("java"), "printf '%s\\n' \"$@\" > java.log");
    age(dir.resolve("core/src/main/java/A.java"), 7200);
    age(dir.resolve("pom.xml"), 7200);
    age(dir.resolve("conf/java17-opens.args"), 7200);
  }

  private static void script(Path file, String body) throws IOException {
    Files.writeString(file, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** Sets a file's modification time to {@code seconds} ago. */
  private static void age(Path file, long seconds) throws IOException {
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(seconds)));
  }

  /** Runs {@code ./submit.sh args}; returns the mvn calls it made (one line each). */
  private List<String> submit(String... args) throws Exception {
    Files.deleteIfExists(dir.resolve("mvn.log"));
    List<String> cmd = new ArrayList<>(List.of("bash", "submit.sh"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("PATH", dir.resolve("bin") + ":/usr/bin:/bin");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    Path log = dir.resolve("mvn.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  @Test
  void aLocalRunBuildsWhenAJarIsMissingOrOlderThanASourceAndOtherwiseNot() throws Exception {
    layout();
    // outside a git checkout the build records the commit as unknown (BuildInfo, provenance)
    assertEquals(
        List.of("-B -q -DskipTests -Dgit.commit=unknown package"),
        submit("--local", "memory", "c.yaml"));
    List<String> java = Files.readAllLines(dir.resolve("java.log"));
    assertTrue(java.contains("@conf/java17-opens.args"), "JVM options file: " + java);
    assertEquals(
        List.of("-cp", JAR + ":/spark.jar", "dev.l1ra.job.Main", "memory", "c.yaml"),
        java.subList(java.size() - 5, java.size()));

    assertEquals(List.of(), submit("--local", "memory", "c.yaml"), "up to date: no build");

    age(dir.resolve(JAR), 3600);
    Files.writeString(dir.resolve("core/src/main/java/A.java"), "class A { int x; }");
    assertEquals(1, submit("--local", "memory", "c.yaml").size(), "a source changed: rebuilt");
    assertEquals(List.of(), submit("--local", "memory", "c.yaml"));

    age(dir.resolve(JAR), 3600);
    Files.writeString(dir.resolve("pom.xml"), "<project><!-- changed --></project>");
    assertEquals(1, submit("--local", "memory", "c.yaml").size(), "a pom changed: rebuilt");
  }

  @Test
  void buildsNeverInstallIntoTheSharedMavenRepository() throws Exception {
    layout();
    for (String call : submit("--local", "memory", "c.yaml")) {
      assertFalse(call.contains("install"), call);
    }
  }

  /** ./test.sh's Spark 3.5 build must not replace the Spark 4 jars a local run uses. */
  @Test
  void theSpark35BuildWritesToItsOwnDirectory() throws Exception {
    Document pom =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(ROOT.resolve("pom.xml").toFile());
    String directory =
        XPathFactory.newInstance()
            .newXPath()
            .evaluate("/project/profiles/profile[id='spark-3.5']/build/directory", pom);
    assertEquals("${project.basedir}/target/spark-3.5", directory);
  }

  @Test
  void helpListsEveryCommandAndNoShellCode() throws Exception {
    layout();
    ProcessBuilder pb =
        new ProcessBuilder("bash", "submit.sh", "--help")
            .directory(dir.toFile())
            .redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    for (String c : List.of("run", "train", "prep", "eval", "compress", "bench", "memory")) {
      assertTrue(out.contains("      " + c + " "), "--help omits " + c + ":\n" + out);
    }
    assertFalse(out.contains("set -"), "shell code in --help:\n" + out);
    assertFalse(out.contains("fail-once"), out);
  }
}
