package dev.l1ra.data;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session: under spark-submit the master comes from there; for {@code submit.sh --local}
 * (no master set) the config's {@code spark.master}, with task retries enabled ({@code local[N,4]})
 * so a failed task is retried as on a cluster. Every session can move our records with Kryo ({@link
 * KryoRecords}).
 */
public final class SparkSessions {
  private SparkSessions() {}

  public static SparkSession create(String app, String configuredMaster, Map<String, String> conf) {
    SparkConf base = new SparkConf();
    SparkSession.Builder b = SparkSession.builder().appName(app);
    if (!base.contains("spark.master")) {
      b.master(withRetries(configuredMaster));
      b.config("spark.ui.enabled", "false");
      b.config("spark.sql.shuffle.partitions", "8");
    }
    conf.forEach(b::config);
    SparkConf merged = new SparkConf();
    conf.forEach(merged::set);
    b.config(KryoRecords.REGISTRATOR, KryoRecords.registrators(merged));
    SparkSession spark = b.getOrCreate();
    KryoRecords.requireUsable(spark.sparkContext().getConf());
    return spark;
  }

  /** local[N] → local[N,4]: Spark's local mode does not retry failed tasks unless told to. */
  static String withRetries(String master) {
    if (master.matches("local\\[(\\d+|\\*)\\]")) {
      return master.substring(0, master.length() - 1) + ",4]";
    }
    return master.equals("local") ? "local[1,4]" : master;
  }
}
