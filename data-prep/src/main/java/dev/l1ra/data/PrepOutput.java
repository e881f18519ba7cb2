package dev.l1ra.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output folder of a run, on any Hadoop file system (local, HDFS, S3A, DBFS): everything is
 * written under a temporary sibling and renamed over {@code out} at the end, so a failed run leaves
 * the previous output as it was.
 */
final class PrepOutput {
  private static final Logger LOG = LoggerFactory.getLogger(PrepOutput.class);
  static final String SCHEMA_KEY = "l1ra.schema_version";

  private final SparkSession spark;
  private final Path out;
  private final Path tmp;
  private final FileSystem fs;

  private PrepOutput(SparkSession spark, Path out, Path tmp, FileSystem fs) {
    this.spark = spark;
    this.out = out;
    this.tmp = tmp;
    this.fs = fs;
  }

  /**
   * Creates the temporary folder beside {@code out}, on the driver, so that an output that cannot
   * be written stops the job before any Spark work.
   */
  static PrepOutput begin(SparkSession spark, String out) {
    Path o = new Path(out);
    Path tmp = new Path(o.getParent(), "." + o.getName() + ".tmp-" + System.currentTimeMillis());
    try {
      FileSystem fs = o.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.mkdirs(tmp)) {
        throw new IOException("mkdirs returned false");
      }
      return new PrepOutput(spark, o, tmp, fs);
    } catch (IOException e) {
      throw new IllegalStateException(
          "prep output "
              + out
              + " cannot be written: creating "
              + tmp
              + " failed ("
              + e.getMessage()
              + "); make "
              + o.getParent()
              + " writable or set prep.out (CLI: --out) to a folder that is",
          e);
    }
  }

  /** Tokenized Parquet schema; the schema version travels in the input_ids field's metadata. */
  static StructType schema(boolean packed) {
    Metadata meta = new MetadataBuilder().putLong(SCHEMA_KEY, PrepResult.SCHEMA_VERSION).build();
    List<StructField> f = new ArrayList<>();
    f.add(DataTypes.createStructField("id", DataTypes.StringType, false));
    f.add(
        DataTypes.createStructField(
            "input_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false, meta));
    f.add(
        DataTypes.createStructField(
            "labels", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
    f.add(DataTypes.createStructField("num_tokens", DataTypes.IntegerType, false));
    f.add(DataTypes.createStructField("num_learned", DataTypes.IntegerType, false));
    if (packed) {
      f.add(
          DataTypes.createStructField(
              "position_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
      f.add(
          DataTypes.createStructField(
              "segment_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
    }
    return DataTypes.createStructType(f);
  }

  /** Writes one split sorted by id into {@code files} Parquet files; returns the row count. */
  long writeSplit(String split, JavaRDD<Tokenized> rows, int files) {
    boolean packed = rows.take(1).stream().anyMatch(t -> t.positions() != null);
    JavaRDD<Row> r = rows.map(t -> toRow(t, packed));
    Dataset<Row> df = spark.createDataFrame(r, schema(packed));
    long n = df.count();
    if (n == 0) {
      return 0;
    }
    df.repartition(files, functions.col("id"))
        .sortWithinPartitions("id")
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(new Path(tmp, split).toString());
    return n;
  }

  private static Row toRow(Tokenized t, boolean packed) {
    List<Object> v =
        new ArrayList<>(List.of(t.id(), t.inputIds(), t.labels(), t.length(), t.learned()));
    if (packed) {
      v.add(t.positions());
      v.add(t.segments());
    }
    return RowFactory.create(v.toArray());
  }

  /** Bad rows with their reason: the original fields as text, the raw line, and why. */
  void writeRejected(JavaRDD<RawRow> rejected) {
    StructType s =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("id", DataTypes.StringType, true),
                DataTypes.createStructField("system_prompt", DataTypes.StringType, true),
                DataTypes.createStructField("question", DataTypes.StringType, true),
                DataTypes.createStructField("response", DataTypes.StringType, true),
                DataTypes.createStructField("raw", DataTypes.StringType, true),
                DataTypes.createStructField("reason", DataTypes.StringType, false)));
    JavaRDD<Row> rows =
        rejected.map(
            r ->
                RowFactory.create(
                    r.id(), r.system(), r.question(), r.response(), r.raw(), r.reason()));
    spark
        .createDataFrame(rows, s)
        .coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(new Path(tmp, "_rejected").toString());
  }

  /** Writes stats.json and moves the finished folder over {@code out}. */
  void commit(PrepResult result) {
    try {
      try (OutputStream os = fs.create(new Path(tmp, "stats.json"), true)) {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(os, result.json());
      }
      Path old =
          new Path(out.getParent(), "." + out.getName() + ".old-" + System.currentTimeMillis());
      boolean hadOld = fs.exists(out);
      if (hadOld && !fs.rename(out, old)) {
        throw new IOException("cannot move the previous output " + out + " aside");
      }
      if (!fs.rename(tmp, out)) {
        throw new IOException("cannot move " + tmp + " to " + out);
      }
      if (hadOld) {
        fs.delete(old, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot finish output " + out + " (the new data is in " + tmp + "): " + e, e);
    }
  }

  /**
   * Deletes what earlier failed or interrupted runs left beside {@code out}: {@code .<out>.tmp-*}
   * and {@code .<out>.old-*} folders and {@code <out>.failed} (logged). Called after a successful
   * commit.
   */
  void removeLeftovers() {
    String name = out.getName();
    try {
      for (FileStatus s : fs.listStatus(out.getParent())) {
        String n = s.getPath().getName();
        boolean temp = n.startsWith("." + name + ".tmp-") || n.startsWith("." + name + ".old-");
        if (temp || n.equals(name + ".failed")) {
          fs.delete(s.getPath(), true);
          LOG.info("removed {}, left by an earlier failed or interrupted prep", s.getPath());
        }
      }
    } catch (IOException e) {
      LOG.warn("could not remove old temporary folders beside {}: {}", out, e.toString());
    }
  }

  /** After a failure: the temporary folder goes, unless {@link #abandon} kept it as .failed. */
  void discard() {
    try {
      fs.delete(tmp, true);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", tmp, e.toString());
    }
  }

  /** Gives up: keeps what was written (e.g. _rejected) in the temporary folder for inspection. */
  String abandon() {
    Path kept = new Path(out.getParent(), out.getName() + ".failed");
    try {
      fs.delete(kept, true);
      fs.rename(tmp, kept);
      return kept.toString();
    } catch (IOException e) {
      return tmp.toString();
    }
  }
}
