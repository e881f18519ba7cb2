package dev.l1ra.job.data;

import dev.l1ra.core.data.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Reads the tokenized Parquet that data-prep writes: {@code id}, {@code input_ids array<int>},
 * {@code labels array<int>} (aligned with the inputs, -100 not learned), and for packed rows {@code
 * position_ids} and {@code segment_ids}. Rows come back sorted by id, so every run and every
 * partition count sees the same order.
 */
public final class TokenizedData {
  public static final String ID = "id";
  public static final String INPUT_IDS = "input_ids";
  public static final String LABELS = "labels";
  public static final String POSITIONS = "position_ids";
  public static final String SEGMENTS = "segment_ids";

  private TokenizedData() {}

  /** Reads and checks the columns; a missing column is named with the fix. */
  public static Dataset<Row> read(SparkSession spark, String path) {
    Dataset<Row> df;
    try {
      df = spark.read().parquet(path);
    } catch (Exception e) { // Spark's AnalysisException is checked but undeclared
      throw new IllegalArgumentException(
          "tokenized data "
              + path
              + " cannot be read as Parquet ("
              + e.getMessage()
              + "); run `submit.sh --local prep` first",
          e);
    }
    Set<String> cols = new TreeSet<>(Arrays.asList(df.columns()));
    for (String need : List.of(INPUT_IDS, LABELS)) {
      if (!cols.contains(need)) {
        throw new IllegalArgumentException(
            "tokenized data "
                + path
                + " has no column \""
                + need
                + "\" (columns: "
                + cols
                + "); it must come from data-prep (input_ids array<int>, labels array<int>)");
      }
    }
    if (!cols.contains(ID)) {
      df = df.withColumn(ID, functions.monotonically_increasing_id().cast("string"));
    }
    List<String> keep = new ArrayList<>(List.of(ID, INPUT_IDS, LABELS));
    if (cols.contains(POSITIONS) && cols.contains(SEGMENTS)) {
      keep.addAll(List.of(POSITIONS, SEGMENTS));
    }
    return df.select(keep.stream().map(functions::col).toArray(Column[]::new)).orderBy(ID);
  }

  /** One row to a sample; checks lengths. */
  public static Sample toSample(Row r) {
    String id = r.getString(r.fieldIndex(ID));
    int[] ids = ints(r, INPUT_IDS, id);
    int[] labels = ints(r, LABELS, id);
    boolean packed = hasField(r, POSITIONS);
    return new Sample(
        id,
        ids,
        labels,
        packed ? ints(r, POSITIONS, id) : null,
        packed ? ints(r, SEGMENTS, id) : null);
  }

  private static boolean hasField(Row r, String name) {
    return Arrays.asList(r.schema().fieldNames()).contains(name) && !r.isNullAt(r.fieldIndex(name));
  }

  private static int[] ints(Row r, String col, String id) {
    int i = r.fieldIndex(col);
    if (r.isNullAt(i)) {
      throw new IllegalArgumentException("row " + id + ": column " + col + " is null");
    }
    List<Object> list = r.getList(i);
    int[] out = new int[list.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = ((Number) list.get(k)).intValue();
    }
    return out;
  }

  /** All rows on the driver, sorted by id (evaluation sets, small training sets). */
  public static List<Sample> collect(Dataset<Row> df) {
    return df.collectAsList().stream().map(TokenizedData::toSample).toList();
  }
}
