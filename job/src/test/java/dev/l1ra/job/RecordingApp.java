package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A stand-in Spark application for launcher tests: writes the arguments it received and the Spark
 * settings it was given (spark-submit passes them as {@code spark.*} system properties) as JSON to
 * the file named by the environment variable {@code L1RA_RECORD}.
 */
public final class RecordingApp {
  private RecordingApp() {}

  public static void main(String[] args) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode n = json.createObjectNode();
    n.putPOJO("args", args);
    ObjectNode conf = n.putObject("conf");
    System.getProperties().stringPropertyNames().stream()
        .filter(k -> k.startsWith("spark."))
        .sorted()
        .forEach(k -> conf.put(k, System.getProperty(k)));
    json.writeValue(Path.of(System.getenv("L1RA_RECORD")).toFile(), n);
  }
}
