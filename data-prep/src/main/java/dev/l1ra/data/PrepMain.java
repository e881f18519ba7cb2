package dev.l1ra.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.config.RunConfigs;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * {@code prep --input PATH --tokenizer DIR --template NAME --seq-len N --out DIR [options]}: runs
 * data preparation and prints the stats as one JSON object on its last line. A {@code --config
 * FILE.yaml} may supply the options (keys as in {@link PrepSection}, snake_case, as under a run
 * config's {@code data.prep}); flags win.
 */
public final class PrepMain {
  static final Set<String> FLAGS =
      Set.of(
          "config",
          "input",
          "format",
          "tokenizer",
          "template",
          "model-config",
          "seq-len",
          "mode",
          "max-chars",
          "max-rejected",
          "eval-fraction",
          "test-fraction",
          "split-salt",
          "output-partitions",
          "fraction",
          "out",
          "column",
          "master");

  private PrepMain() {}

  public static void main(String[] argv) {
    try {
      System.out.println(run(argv));
      System.exit(0);
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Runs the CLI; returns the stats line. */
  public static String run(String[] argv) {
    Args a = Args.parse("prep", argv, FLAGS, Set.of());
    PrepSection cfg = config(a);
    SparkSession spark = SparkSessions.create("l1ra-prep", a.get("master", "local[2]"), Map.of());
    try {
      return PrepJob.run(spark, cfg).json().toString();
    } finally {
      spark.stop();
    }
  }

  static PrepSection config(Args a) {
    ObjectNode n = RunConfigs.yaml().createObjectNode();
    if (a.has("config")) {
      n.setAll(fileKeys(Path.of(a.get("config", null))));
    }
    for (String f : FLAGS) {
      if (a.has(f) && !f.equals("config") && !f.equals("column") && !f.equals("master")) {
        n.put(f.replace('-', '_'), a.get(f, null));
      }
    }
    Map<String, String> columns = new LinkedHashMap<>();
    if (a.has("column")) {
      for (String kv : a.get("column", "").split(",")) {
        String[] p = kv.split("=", 2);
        if (p.length != 2) {
          throw new IllegalArgumentException(
              "--column takes field=source_column (e.g. question=instruction), got \"" + kv + "\"");
        }
        columns.put(p[0].trim(), p[1].trim());
      }
      n.set("columns", RunConfigs.yaml().valueToTree(columns));
    }
    return RunConfigs.parse(n, PrepSection.class);
  }

  /** The prep keys of a {@code --config} file: its {@code prep} mapping, or the whole file. */
  private static ObjectNode fileKeys(Path file) {
    JsonNode root = RunConfigs.readTree(file);
    JsonNode prep = root != null && root.has("prep") ? root.get("prep") : root;
    if (prep instanceof ObjectNode keys) {
      return keys;
    }
    throw new IllegalArgumentException(
        "prep --config " + file + " must be a YAML mapping of prep keys (or hold one under prep)");
  }
}
