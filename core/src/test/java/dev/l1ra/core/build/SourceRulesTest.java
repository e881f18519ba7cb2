package dev.l1ra.core.build;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * House rules the build enforces on every module's main code (STYLE.md): classes named by imports,
 * not inline fully-qualified names; planning code that never reaches into CLI classes; adapters
 * asked for their facts, never tested for their class; report classes that do not import the job
 * that writes them. Each rule names the offending file and line.
 */
class SourceRulesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern FQN =
      Pattern.compile(
          "(?<![\\w.@\"])(?:java|javax|ai\\.djl|org\\.apache|org\\.slf4j|com\\.fasterxml|dev\\.l1ra"
              + "|scala)(?:\\.[a-z_]\\w*)+\\.[A-Z]\\w*");
  private static final Pattern ADAPTER_TYPE_TEST =
      Pattern.compile(
          "instanceof\\s+(?:LoraAdapter|AdaLoraAdapter)|\\((?:LoraAdapter|AdaLoraAdapter)\\)");

  @Test
  void noInlineFullyQualifiedNames() throws IOException {
    List<String> bad = new ArrayList<>();
    for (Path f : mainSources()) {
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        String code = code(lines.get(i));
        Matcher m = FQN.matcher(code);
        if (m.find() && !lines.get(i).contains("// fqn-ok")) {
          bad.add(where(f, i) + m.group());
        }
      }
    }
    assertTrue(bad.isEmpty(), "inline fully-qualified names (import them):\n" + join(bad));
  }

  @Test
  void onlyTheCommandLineUsesCommandClasses() throws IOException {
    List<String> bad = new ArrayList<>();
    Pattern use = Pattern.compile("\\b(\\w+Command)\\.");
    for (Path f : mainSources()) {
      String name = f.getFileName().toString();
      boolean cli = name.endsWith("Command.java") || name.equals("Main.java");
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size() && !cli; i++) {
        Matcher m = use.matcher(code(lines.get(i)));
        if (m.find()) {
          bad.add(where(f, i) + m.group(1));
        }
      }
    }
    assertTrue(bad.isEmpty(), "non-CLI code uses a *Command class:\n" + join(bad));
  }

  @Test
  void adapterTypesAreTestedOnlyInTheAdapterPackage() throws IOException {
    List<String> bad = new ArrayList<>();
    for (Path f : mainSources()) {
      if (f.toString().contains("/dev/l1ra/model/adapter/")) {
        continue;
      }
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        Matcher m = ADAPTER_TYPE_TEST.matcher(code(lines.get(i)));
        if (m.find()) {
          bad.add(where(f, i) + m.group());
        }
      }
    }
    assertTrue(bad.isEmpty(), "instanceof or casts on adapter classes:\n" + join(bad));
  }

  @Test
  void reportClassesDoNotImportTheJobThatWritesThem() throws IOException {
    List<String> bad = new ArrayList<>();
    Pattern job = Pattern.compile("^import dev\\.l1ra\\.job\\.(?!report\\.)");
    for (Path f : mainSources()) {
      if (!f.toString().contains("/dev/l1ra/job/report/")) {
        continue;
      }
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        if (job.matcher(lines.get(i)).find()) {
          bad.add(where(f, i) + lines.get(i));
        }
      }
    }
    assertTrue(bad.isEmpty(), "job.report imports the job package (a cycle):\n" + join(bad));
  }

  /** The line without comments, string literals and import/package statements. */
  private static String code(String line) {
    String s = line.strip();
    if (s.startsWith("import ")
        || s.startsWith("package ")
        || s.startsWith("*")
        || s.startsWith("/*")
        || s.startsWith("//")) {
      return "";
    }
    int comment = s.indexOf("//");
    if (comment >= 0) {
      s = s.substring(0, comment);
    }
    return s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
  }

  private static List<Path> mainSources() throws IOException {
    List<Path> out = new ArrayList<>();
    for (String module : List.of("core", "model", "data-prep", "job")) {
      Path dir = ROOT.resolve(module).resolve("src/main/java");
      try (Stream<Path> s = Files.walk(dir)) {
        s.filter(p -> p.toString().endsWith(".java")).forEach(out::add);
      }
    }
    assertTrue(out.size() > 100, "found only " + out.size() + " sources under " + ROOT);
    return out;
  }

  private static String where(Path f, int line) {
    return ROOT.relativize(f) + ":" + (line + 1) + ": ";
  }

  private static String join(List<String> lines) {
    return String.join("\n", lines);
  }
}
