package dev.l1ra.job;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * A stand-in for a Databricks driver (JarTaskMainTest's child JVM): it owns the JVM and a Spark
 * session, calls a JAR task's {@code main} by reflection once per task, reports how each call ended
 * and whether its session survived, then stops the session and exits 0 itself.
 *
 * <p>Arguments: {@code MAIN_CLASS --- task 1 args --- task 2 args ...}
 */
public final class JarTaskHost {
  private JarTaskHost() {}

  public static void main(String[] args) throws Exception {
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("host")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    List<List<String>> tasks = new ArrayList<>();
    for (String a : Arrays.copyOfRange(args, 1, args.length)) {
      if (a.equals("---")) {
        tasks.add(new ArrayList<>());
      } else {
        tasks.get(tasks.size() - 1).add(a);
      }
    }
    for (int i = 0; i < tasks.size(); i++) {
      String outcome;
      try {
        Class.forName(args[0])
            .getMethod("main", String[].class)
            .invoke(null, (Object) tasks.get(i).toArray(new String[0]));
        outcome = "returned";
      } catch (InvocationTargetException e) {
        outcome = "threw " + e.getCause();
      }
      System.out.println("task " + (i + 1) + " " + outcome);
      System.out.println(
          "task "
              + (i + 1)
              + " session "
              + (spark.sparkContext().isStopped() ? "stopped" : "active")
              + (SparkSession.active() == spark ? ", the host's" : ", another"));
    }
    spark.stop();
    System.out.println("host done");
    System.exit(0);
  }
}
