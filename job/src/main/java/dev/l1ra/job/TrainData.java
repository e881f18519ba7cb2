package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.data.Sample;
import dev.l1ra.job.data.TokenizedData;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * The run's tokenized data on Spark: training samples with their global index (sorted by id), the
 * learned-token count of each (collected: one int per sample, for the loss normaliser), the longest
 * sample (for the memory check), and the eval samples.
 */
record TrainData(
    JavaPairRDD<Long, Sample> indexed, int[] learned, int maxLength, JavaRDD<Sample> eval) {

  static TrainData load(SparkSession spark, RunConfig cfg) {
    JavaRDD<Sample> train =
        TokenizedData.read(spark, cfg.data().train()).javaRDD().map(TokenizedData::toSample);
    JavaPairRDD<Long, Sample> indexed =
        train
            .zipWithIndex()
            .mapToPair(t -> new Tuple2<>(t._2(), t._1()))
            .persist(StorageLevel.MEMORY_AND_DISK());
    // one pass: each sample's learned-token count (in index order) and its length
    List<int[]> counts =
        indexed.sortByKey().map(t -> new int[] {t._2().learnedTokens(), t._2().length()}).collect();
    if (counts.isEmpty()) {
      throw new IllegalArgumentException("training data " + cfg.data().train() + " has no rows");
    }
    int[] learned = counts.stream().mapToInt(c -> c[0]).toArray();
    int maxLength = counts.stream().mapToInt(c -> c[1]).max().getAsInt();
    JavaRDD<Sample> eval =
        cfg.data().eval() == null
            ? null
            : TokenizedData.read(spark, cfg.data().eval()).javaRDD().map(TokenizedData::toSample);
    return new TrainData(indexed, learned, maxLength, eval);
  }

  int size() {
    return learned.length;
  }
}
