package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The jar knows which Spark line it was built for and refuses to run on another. */
class BuildInfoTest {
  @Test
  void theBuildRecordsTheSparkItCompiledAgainst() {
    BuildInfo b = BuildInfo.current();
    assertEquals(SparkSession.class.getPackage().getImplementationVersion(), b.sparkVersion());
    assertTrue(BuildInfo.runtimeScala().startsWith(b.scalaBinary() + "."), b.toString());
    assertDoesNotThrow(() -> BuildInfo.requireRuntime(b.sparkVersion(), BuildInfo.runtimeScala()));
  }

  @Test
  void aJarForAnotherSparkLineNamesBothAndTheBuildThatFits() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> new BuildInfo("4.2.0", "2.13").check("3.5.0", "2.12.15"));
    assertTrue(e.getMessage().contains("built for Spark 4.2.0 / Scala 2.13"), e.getMessage());
    assertTrue(e.getMessage().contains("runs on Spark 3.5.0 / Scala 2.12.15"), e.getMessage());
    assertTrue(e.getMessage().contains("-Pspark-3.5,cluster"), e.getMessage());
    assertThrows(
        IllegalStateException.class,
        () -> new BuildInfo("3.5.8", "2.12").check("4.0.1", "2.13.16"));
    assertThrows(
        IllegalStateException.class,
        () -> new BuildInfo("3.5.8", "2.12").check("3.4.1", "2.12.17"));
    assertDoesNotThrow(() -> new BuildInfo("3.5.8", "2.12").check("3.5.0", "2.12.15"));
    assertDoesNotThrow(() -> new BuildInfo("4.2.0", "2.13").check("4.0.1", "2.13.16"));
  }
}
