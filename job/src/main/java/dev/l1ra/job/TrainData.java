package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.data.Sample;
import dev.l1ra.job.data.TokenizedData;
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
    int[] learned =
        indexed.sortByKey().map(t -> t._2().learnedTokens()).collect().stream()
            .mapToInt(Integer::intValue)
            .toArray();
    if (learned.length == 0) {
      throw new IllegalArgumentException("training data " + cfg.data().train() + " has no rows");
    }
    int maxLength = indexed.map(t -> t._2().length()).reduce(Math::max);
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
