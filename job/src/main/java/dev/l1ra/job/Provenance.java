package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.run.RunFingerprint;
import dev.l1ra.model.engine.EngineInfo;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * Where a run's adapter came from, for report.json and the adapter folder's provenance.json: the
 * project version and git commit, the Spark, Scala, DJL, libtorch and Java versions, the device,
 * the base model and the training data's fingerprint.
 */
final class Provenance {
  private Provenance() {}

  static Map<String, String> of(SparkSession spark, RunConfig cfg, String dataFingerprint) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("l1ra_spark_version", BuildInfo.projectVersion());
    p.put("git_commit", BuildInfo.gitCommit());
    p.put("spark", spark.version());
    p.put("scala", BuildInfo.runtimeScala());
    p.put("djl", EngineInfo.djlVersion());
    p.put("libtorch", EngineInfo.libtorchVersion());
    p.put("java", Runtime.version().toString());
    p.put("device", cfg.model().device());
    p.put("driver_device", EngineInfo.device(cfg.model().device()).toString());
    p.put("base_model", RunFingerprint.absolute(cfg.model().path()));
    p.put("data_train", cfg.data().train());
    p.put("data_fingerprint", dataFingerprint);
    return p;
  }
}
