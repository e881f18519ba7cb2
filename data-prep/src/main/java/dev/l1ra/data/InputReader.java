package dev.l1ra.data;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.config.PrepSection.Format;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Reads OpenOrca-schema rows (id, system_prompt, question, response; names mappable) from JSON
 * Lines, Parquet or CSV into checked {@link RawRow}s. JSON Lines are parsed line by line so each
 * bad line (invalid JSON, wrong types, invalid UTF-8) is rejected on its own. A field that no row
 * has (a column the source does not have) is an error naming the mapping that fixes it.
 */
final class InputReader {
  private InputReader() {}

  /** The fields every row needs; a source without one of them cannot be prepared. */
  private static final List<String> REQUIRED = List.of("id", "question", "response");

  static JavaRDD<RawRow> read(SparkSession spark, PrepSection cfg) {
    Format fmt = format(cfg);
    if (fmt == Format.JSONL) {
      JavaRDD<String> lines =
          open(cfg, () -> spark.read().textFile(cfg.input())).javaRDD().filter(l -> !l.isBlank());
      requireColumns(cfg, jsonFields(lines, cfg));
      return lines.map(l -> RowChecks.fromJsonLine(l, cfg));
    }
    Dataset<Row> df =
        open(
            cfg,
            () ->
                fmt == Format.CSV
                    ? spark
                        .read()
                        .option("header", "true")
                        .option("multiLine", "true")
                        .option("escape", "\"")
                        .csv(cfg.input())
                    : spark.read().parquet(cfg.input()));
    List<String> cols = Arrays.asList(df.columns());
    requireColumns(cfg, cols);
    boolean[] text = new boolean[4];
    for (int i = 0; i < 4; i++) {
      String c = cfg.column(PrepSection.FIELDS.get(i));
      text[i] = !cols.contains(c) || isString(df.schema().apply(c));
    }
    int maxChars = cfg.maxChars();
    String[] names = PrepSection.FIELDS.stream().map(cfg::column).toArray(String[]::new);
    return df.javaRDD().map(r -> fromRow(r, names, text, maxChars));
  }

  /** Fails naming the mapping that fixes it when the source has no column for a required field. */
  private static void requireColumns(PrepSection cfg, List<String> cols) {
    for (String need : REQUIRED) {
      if (!cols.contains(cfg.column(need))) {
        throw new IllegalArgumentException(
            "input "
                + cfg.input()
                + " has no column \""
                + cfg.column(need)
                + "\" for "
                + need
                + " (columns: "
                + cols
                + "); map it with prep.columns."
                + need
                + " (CLI: --column "
                + need
                + "=NAME)");
      }
    }
  }

  /**
   * The columns of JSON Lines, as far as the check needs them: the required ones when one row has
   * them all (usually the first, so one small Spark job), else the fields of all rows. No readable
   * row at all passes (each bad line is then rejected on its own).
   */
  private static List<String> jsonFields(JavaRDD<String> lines, PrepSection cfg) {
    List<String> required = REQUIRED.stream().map(cfg::column).toList();
    if (!lines.filter(l -> RowChecks.fieldNames(l).containsAll(required)).take(1).isEmpty()) {
      return required;
    }
    List<String> fields =
        lines.flatMap(l -> RowChecks.fieldNames(l).iterator()).distinct().collect();
    return fields.isEmpty() ? required : fields.stream().sorted().toList();
  }

  /**
   * Opens the input; a missing or unreadable path is named with the fix. (Spark raises {@code
   * AnalysisException}, a checked exception undeclared in Java, hence the catch of Exception.)
   */
  private static <T> T open(PrepSection cfg, Callable<T> read) {
    try {
      return read.call();
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "prep input "
              + cfg.input()
              + " cannot be read as "
              + format(cfg)
              + " ("
              + e.getMessage()
              + "); check prep.input (CLI --input) and prep.format (--format: jsonl, parquet, csv)",
          e);
    }
  }

  /** The input format: the option, else the extension of the path or of the files in it. */
  static Format format(PrepSection cfg) {
    if (cfg.format() != Format.AUTO) {
      return cfg.format();
    }
    String name = firstFile(cfg.input()).toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv")) {
      return Format.CSV;
    }
    if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
      return Format.JSONL;
    }
    return Format.PARQUET;
  }

  /** The input itself, or for a folder the first of its files (hidden and _-files aside). */
  private static String firstFile(String input) {
    if (!Files.isDirectory(Path.of(input))) {
      return input;
    }
    try (Stream<Path> files = Files.list(Path.of(input))) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(f -> !f.startsWith(".") && !f.startsWith("_"))
          .sorted()
          .findFirst()
          .orElse(input);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list input " + input, e);
    }
  }

  private static boolean isString(StructField f) {
    return f.dataType().equals(DataTypes.StringType);
  }

  /** A typed row: the id may be any scalar; text columns of another type are wrong_type. */
  private static RawRow fromRow(Row r, String[] names, boolean[] text, int maxChars) {
    String[] v = new String[4];
    boolean wrongType = false;
    for (int i = 0; i < 4; i++) {
      int idx = fieldIndex(r, names[i]);
      Object o = idx < 0 || r.isNullAt(idx) ? null : r.get(idx);
      v[i] = o == null ? null : o.toString();
      wrongType |= i > 0 && o != null && !text[i];
    }
    RawRow row = new RawRow(v[0], v[1], v[2], v[3], r.json(), null);
    return wrongType ? row.reject("wrong_type") : RowChecks.check(row, maxChars);
  }

  private static int fieldIndex(Row r, String name) {
    try {
      return r.fieldIndex(name);
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }
}
