package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The shaded cluster jar as built ({@code mvn verify -Pcluster}; ./test.sh builds it with
 * -Pspark-3.5,cluster, the Databricks 15.4 LTS jar): Java 17 classes, DJL's JNI for the flavor the
 * Databricks job declares, no Spark inside, and the Spark line it was built for recorded.
 */
class ClusterJarIT {
  static final Path JAR =
      Path.of(System.getProperty("l1ra.cluster.jar", "target/l1ra-spark-job.jar"));

  private static JarFile jar() throws IOException {
    assertTrue(Files.isRegularFile(JAR), "no cluster jar at " + JAR + " (mvn -Pcluster package)");
    return new JarFile(JAR.toFile());
  }

  /** Class-file major version: 61 = Java 17. */
  private static int major(JarFile jar, JarEntry e) throws IOException {
    try (DataInputStream in = new DataInputStream(jar.getInputStream(e))) {
      assertEquals(0xCAFEBABE, in.readInt(), e.getName());
      in.readUnsignedShort();
      return in.readUnsignedShort();
    }
  }

  @Test
  void ourClassesAreJava17AndNoClassNeedsANewerJvm() throws IOException {
    try (JarFile jar = jar()) {
      int ours = 0;
      List<String> tooNew = new ArrayList<>();
      for (JarEntry e : jar.stream().toList()) {
        String n = e.getName();
        if (!n.endsWith(".class") || n.startsWith("META-INF/versions/")) {
          continue; // multi-release classes load only on the JVM they are for
        }
        int v = major(jar, e);
        if (n.startsWith("dev/l1ra/")) {
          assertEquals(61, v, n + " is not Java 17 bytecode");
          ours++;
        } else if (v > 61) {
          tooNew.add(n + " (" + v + ")");
        }
      }
      assertTrue(ours > 50, "our classes in the jar: " + ours);
      assertEquals(List.of(), tooNew, "classes a Java 17 JVM cannot load");
      assertNotNull(jar.getEntry("dev/l1ra/job/JarTaskMain.class"));
      assertEquals(
          "dev.l1ra.job.Main", jar.getManifest().getMainAttributes().getValue("Main-Class"));
    }
  }

  @Test
  void itCarriesDjlsJniForTheFlavorTheDatabricksJobDeclares() throws IOException {
    Set<String> flavors = new TreeSet<>();
    try (JarFile jar = jar()) {
      jar.stream()
          .map(JarEntry::getName)
          .filter(n -> n.startsWith("jnilib/linux-x86_64/") && n.endsWith("/libdjl_torch.so"))
          .forEach(n -> flavors.add(n.split("/")[2]));
      assertNotNull(jar.getEntry("jnilib/pytorch.properties"));
    }
    assertEquals(Set.of("cpu", "cu128"), flavors, "pytorch-jni 2.7.1-0.36.0's linux-x86_64 JNI");
    JsonNode job =
        new ObjectMapper().readTree(PresetsTest.CONF.resolve("databricks/job.json").toFile());
    String declared =
        job.get("tasks")
            .get(0)
            .get("new_cluster")
            .get("spark_env_vars")
            .get("PYTORCH_FLAVOR")
            .asText();
    assertTrue(flavors.contains(declared), "job.json's PYTORCH_FLAVOR " + declared + " has no JNI");
  }

  @Test
  void sparkIsNotInsideAndTheSparkLineIsRecorded() throws IOException {
    try (JarFile jar = jar()) {
      assertTrue(
          jar.stream().noneMatch(e -> e.getName().startsWith("org/apache/spark/")),
          "Spark is provided by the cluster; a copy in the jar would clash with it");
      Properties p = new Properties();
      try (InputStream in = jar.getInputStream(jar.getEntry("dev/l1ra/job/build.properties"))) {
        p.load(in);
      }
      assertEquals(System.getProperty("l1ra.spark.version"), p.getProperty("spark.version"));
      String scala = p.getProperty("scala.binary.version");
      assertEquals(System.getProperty("l1ra.scala.binary.version"), scala);
      if (scala.equals("2.12")) {
        JsonNode job =
            new ObjectMapper().readTree(PresetsTest.CONF.resolve("databricks/job.json").toFile());
        String runtime = job.get("tasks").get(0).get("new_cluster").get("spark_version").asText();
        assertTrue(runtime.endsWith("-scala2.12"), "the Databricks job runs " + runtime);
      }
    }
  }
}
