package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import org.apache.spark.deploy.SparkSubmit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark-submit command as Spark itself reads it. Each test hands the generated arguments to
 * {@link SparkSubmit} — the class the {@code spark-submit} script runs — in a child JVM, with two
 * changes so that it runs here: a local master instead of yarn, and {@link RecordingApp} instead of
 * {@code Main} as the application. SparkSubmit parses every option and {@code --conf} exactly as on
 * a cluster and passes the settings and the application's arguments on; the recording app writes
 * down what arrived. A stray argument (an {@code --add-opens} split off its {@code --conf}) makes
 * SparkSubmit fail ("Unrecognized option") or shifts the application's arguments; a quote left in a
 * value shows in the recorded setting.
 */
class SubmitCommandTest {
  static final Path PRESET = PresetsTest.CONF.resolve("llama31-8b-openorca-l1ra.yaml");

  /** A job argument with everything a shell treats specially. */
  static final String TRICKY = "run.name=it's \"8b\" $HOME `date` * ; #x";

  @TempDir Path dir;

  /** The generated command for the preset, pointed at a local master and the recording app. */
  private List<String> localCommand() throws IOException {
    Path jar = dir.resolve("app.jar");
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream empty = new JarOutputStream(out)) {
      // the primary resource must exist; RecordingApp comes from the test classpath
    }
    RunConfig cfg = RunConfigs.load(PRESET, List.of());
    List<String> cmd =
        new ArrayList<>(
            SubmitCommand.command(
                jar.toString(), PRESET.toString(), cfg, new String[] {"--set", TRICKY}));
    cmd.set(cmd.indexOf("--master") + 1, "local[1]");
    cmd.set(cmd.indexOf("--class") + 1, RecordingApp.class.getName());
    return cmd;
  }

  /** Runs a process with the recording file and the child JVM's settings in its environment. */
  private JsonNode run(List<String> process, Path path) throws Exception {
    Path record = dir.resolve("record.json");
    Path log = dir.resolve("launcher.log");
    ProcessBuilder pb =
        new ProcessBuilder(process).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("L1RA_RECORD", record.toString());
    pb.environment().put("L1RA_JAVA", ChildJvm.java());
    pb.environment().put("L1RA_JVM_OPTIONS", String.join(" ", ChildJvm.options()));
    pb.environment().put("L1RA_CP", System.getProperty("java.class.path"));
    if (path != null) {
      pb.environment().put("PATH", path + ":" + System.getenv("PATH"));
    }
    Process p = pb.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "SparkSubmit did not finish in 180 s");
    String out = Files.readString(log);
    assertEquals(0, p.exitValue(), "SparkSubmit failed:\n" + out);
    assertTrue(Files.exists(record), "the application did not run:\n" + out);
    return new ObjectMapper().readTree(record.toFile());
  }

  /** The application got exactly the job arguments and every --conf setting unchanged. */
  private static void assertReceivedAsBuilt(List<String> cmd, JsonNode got) {
    List<String> args = new ArrayList<>();
    got.get("args").forEach(a -> args.add(a.asText()));
    assertEquals(List.of("run", PRESET.toString(), "--set", TRICKY), args, "application args");
    int settings = 0;
    for (int i = 0; i < cmd.size(); i++) {
      if (cmd.get(i).equals("--conf")) {
        String kv = cmd.get(i + 1);
        String key = kv.substring(0, kv.indexOf('='));
        assertEquals(
            kv.substring(kv.indexOf('=') + 1), got.get("conf").path(key).asText(null), key);
        settings++;
      }
    }
    assertTrue(settings >= 10, "settings checked: " + settings);
    String jvm = String.join(" ", SubmitCommand.jvmOptions());
    assertEquals(jvm, got.get("conf").get("spark.driver.extraJavaOptions").asText());
    assertEquals(jvm, got.get("conf").get("spark.executor.extraJavaOptions").asText());
  }

  @Test
  void theArgumentListReachesSparkSubmitIntact() throws Exception {
    List<String> cmd = localCommand();
    // what submit.sh runs: the list, no shell parsing in between
    List<String> process =
        ChildJvm.command(SparkSubmit.class.getName(), cmd.subList(1, cmd.size()));
    assertReceivedAsBuilt(cmd, run(process, null));
  }

  /** The --dry-run line, run by bash as a user would paste it, gives SparkSubmit the same list. */
  @Test
  void theDryRunLineRunByAShellGivesSparkSubmitTheSameArguments() throws Exception {
    List<String> cmd = localCommand();
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = bin.resolve("spark-submit");
    Files.writeString(
        fake,
        "#!/bin/sh\nexec \"$L1RA_JAVA\" $L1RA_JVM_OPTIONS -cp \"$L1RA_CP\" "
            + SparkSubmit.class.getName()
            + " \"$@\"\n",
        StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    String line = SubmitCommand.shellLine(cmd);
    assertReceivedAsBuilt(cmd, run(List.of("bash", "-c", line), bin));
  }

  @Test
  void theOptionsListIsConfJava17OpensArgs() throws IOException {
    List<String> file =
        Files.readAllLines(PresetsTest.CONF.resolve("java17-opens.args")).stream()
            .filter(l -> l.startsWith("--add-opens="))
            .toList();
    assertEquals(13, file.size(), "the list Spark's launcher passes on Java 17");
    assertEquals(file, SubmitCommand.java17Opens());
  }

  @Test
  void aConfigsOwnJavaOptionsAreAddedToOursNotInsteadOfThem() throws IOException {
    Path yaml = dir.resolve("c.yaml");
    Files.writeString(
        yaml,
        Files.readString(PRESET)
            .replace(
                "  executor_memory: 64g",
                "  executor_memory: 64g\n  conf: {spark.executor.extraJavaOptions: -Dmine=1}"));
    List<String> cmd =
        SubmitCommand.command("j.jar", "c.yaml", RunConfigs.load(yaml, List.of()), new String[0]);
    List<String> executor =
        cmd.stream().filter(a -> a.startsWith("spark.executor.extraJavaOptions=")).toList();
    assertEquals(
        List.of(
            "spark.executor.extraJavaOptions="
                + String.join(" ", SubmitCommand.jvmOptions())
                + " -Dmine=1"),
        executor);
  }
}
