package dev.l1ra.job;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.data.PrepJob;
import dev.l1ra.data.PrepMain;
import dev.l1ra.data.PrepResult;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /** Runs data.prep of a run config unless its output is complete (stats.json present). */
  static void runFromConfig(SparkSession spark, RunConfig cfg) {
    PrepSection prep = cfg.data().prep();
    if (prep == null) {
      return;
    }
    if (Files.isRegularFile(Path.of(prep.out(), "stats.json"))) {
      LOG.info("data already prepared in {} (delete it to prepare again)", prep.out());
      return;
    }
    PrepResult r = PrepJob.run(spark, prep);
    LOG.info("prepared data: {}", r.json());
  }
}
