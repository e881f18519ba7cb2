package dev.l1ra.data;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Lets Spark's Kryo serializer ({@code spark.serializer=…KryoSerializer}, which many clusters set)
 * move Java records: Kryo 4's field serializer cannot (records' fields have no field offsets), and
 * the immutable lists inside them cannot be rebuilt element by element. Records go through Java
 * serialization instead; large tensors travel as byte payloads, so this costs little. Every session
 * this project creates names this class in {@code spark.kryo.registrator}.
 */
public final class KryoRecords implements KryoRegistrator {
  public static final String REGISTRATOR = "spark.kryo.registrator";

  @Override
  public void registerClasses(Kryo kryo) {
    kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
  }

  /** {@code spark.kryo.registrator} with this class added to what is set already. */
  static String registrators(SparkConf conf) {
    String set = conf.get(REGISTRATOR, "").trim();
    if (names(set).contains(KryoRecords.class.getName())) {
      return set;
    }
    return set.isEmpty() ? KryoRecords.class.getName() : set + "," + KryoRecords.class.getName();
  }

  /**
   * Checks a running session that this project did not create (a Databricks JAR task's): with the
   * Kryo serializer it must list this registrator, which can only be set before Spark starts.
   *
   * @throws IllegalStateException naming the setting to add
   */
  public static void requireUsable(SparkConf conf) {
    boolean kryo = conf.get("spark.serializer", "").contains("Kryo");
    if (kryo && !names(conf.get(REGISTRATOR, "")).contains(KryoRecords.class.getName())) {
      throw new IllegalStateException(
          "this Spark session uses the Kryo serializer without "
              + KryoRecords.class.getName()
              + " in "
              + REGISTRATOR
              + " (set before Spark starts): add "
              + REGISTRATOR
              + "="
              + KryoRecords.class.getName()
              + " to the cluster's Spark config (Databricks: the job's spark_conf), or use"
              + " Spark's default Java serializer");
    }
  }

  private static List<String> names(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).toList();
  }
}
