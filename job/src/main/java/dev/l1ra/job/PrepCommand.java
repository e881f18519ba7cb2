package dev.l1ra.job;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.data.PrepFingerprint;
import dev.l1ra.data.PrepJob;
import dev.l1ra.data.PrepMain;
import dev.l1ra.data.PrepResult;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code prep}: the data-preparation job, from CLI flags or from a run config's data.prep. */
final class PrepCommand {
  private static final Logger LOG = LoggerFactory.getLogger(PrepCommand.class);

  private PrepCommand() {}

  static int run(String[] argv) {
    System.out.println(PrepMain.run(argv));
    return 0;
  }

  /**
   * Runs data.prep of a run config unless its output was prepared from the same input files and
   * settings (the fingerprint in its stats.json); logs why it prepares.
   */
  static void runFromConfig(SparkSession spark, RunConfig cfg) {
    PrepSection prep = cfg.data().prep();
    if (prep == null) {
      return;
    }
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Map<String, String> now = PrepFingerprint.of(prep, hadoop);
    Optional<String> why = PrepFingerprint.staleBecause(prep, now, hadoop);
    if (why.isEmpty()) {
      LOG.info(
          "data already prepared in {} from the same input and settings; reusing it", prep.out());
      return;
    }
    LOG.info("preparing data in {}: {}", prep.out(), why.get());
    PrepResult r = PrepJob.run(spark, prep, now);
    LOG.info("prepared data: {}", r.json());
  }
}
