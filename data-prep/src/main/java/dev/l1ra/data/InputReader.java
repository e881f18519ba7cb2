package dev.l1ra.data;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Reads OpenOrca-schema rows (id, system_prompt, question, response; names mappable) from JSON
 * Lines, Parquet or CSV into checked {@link RawRow}s. JSON Lines are parsed line by line so each
 * bad line (invalid JSON, wrong types, invalid UTF-8) is rejected on its own.
 */
final class InputReader {
  private InputReader() {}

  static JavaRDD<RawRow> read(SparkSession spark, PrepConfig cfg) {
    String fmt = cfg.resolvedFormat();
    if (fmt.equals("jsonl")) {
      return open(cfg, () -> spark.read().textFile(cfg.input()))
          .javaRDD()
          .filter(l -> !l.isBlank())
          .map(l -> RowChecks.fromJsonLine(l, cfg));
    }
    Dataset<Row> df =
        open(
            cfg,
            () ->
                fmt.equals("csv")
                    ? spark
                        .read()
                        .option("header", "true")
                        .option("multiLine", "true")
                        .option("escape", "\"")
                        .csv(cfg.input())
                    : spark.read().parquet(cfg.input()));
    List<String> cols = Arrays.asList(df.columns());
    for (String need : List.of("id", "question", "response")) {
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
    boolean[] text = new boolean[4];
    for (int i = 0; i < 4; i++) {
      String c = cfg.column(PrepConfig.FIELDS.get(i));
      text[i] = !cols.contains(c) || isString(df.schema().apply(c));
    }
    int maxChars = cfg.maxChars();
    String[] names = PrepConfig.FIELDS.stream().map(cfg::column).toArray(String[]::new);
    return df.javaRDD().map(r -> fromRow(r, names, text, maxChars));
  }

  /**
   * Opens the input; a missing or unreadable path is named with the fix. (Spark raises {@code
   * AnalysisException}, a checked exception undeclared in Java, hence the catch of Exception.)
   */
  private static <T> T open(PrepConfig cfg, java.util.concurrent.Callable<T> read) {
    try {
      return read.call();
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "prep input "
              + cfg.input()
              + " cannot be read as "
              + cfg.resolvedFormat()
              + " ("
              + e.getMessage()
              + "); check prep.input (CLI --input) and prep.format (--format: jsonl, parquet, csv)",
          e);
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
