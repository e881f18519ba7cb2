package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.util.Digests;
import dev.l1ra.job.data.TokenizedData;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * The run's tokenized data on Spark: training samples with their global index (sorted by id), the
 * learned-token count of each (collected: one int per sample, for the loss normaliser), the longest
 * sample (for the memory check), the eval samples, and a fingerprint of the training samples'
 * content (their tokens, labels, positions and segments, in order: what a resumed run must train
 * on; independent of files, partitioning and modification times).
 */
record TrainData(
    JavaPairRDD<Long, Sample> indexed,
    int[] learned,
    int maxLength,
    JavaRDD<Sample> eval,
    String fingerprint) {

  static TrainData load(SparkSession spark, RunConfig cfg) {
    JavaRDD<Sample> train =
        TokenizedData.read(spark, cfg.data().train()).javaRDD().map(TokenizedData::toSample);
    JavaPairRDD<Long, Sample> indexed =
        train
            .zipWithIndex()
            .mapToPair(t -> new Tuple2<>(t._2(), t._1()))
            .persist(StorageLevel.MEMORY_AND_DISK());
    // one pass: each sample's learned-token count (in index order), its length and content hash
    List<long[]> counts =
        indexed
            .sortByKey()
            .map(t -> new long[] {t._2().learnedTokens(), t._2().length(), hash(t._2())})
            .collect();
    if (counts.isEmpty()) {
      throw new IllegalArgumentException("training data " + cfg.data().train() + " has no rows");
    }
    int[] learned = counts.stream().mapToInt(c -> (int) c[0]).toArray();
    int maxLength = counts.stream().mapToInt(c -> (int) c[1]).max().getAsInt();
    JavaRDD<Sample> eval =
        cfg.data().eval() == null
            ? null
            : TokenizedData.read(spark, cfg.data().eval()).javaRDD().map(TokenizedData::toSample);
    return new TrainData(indexed, learned, maxLength, eval, fingerprint(counts));
  }

  int size() {
    return learned.length;
  }

  /** "N samples, T tokens, digest D" over every sample's content hash, in index order. */
  private static String fingerprint(List<long[]> counts) {
    MessageDigest md = Digests.sha256();
    ByteBuffer b = ByteBuffer.allocate(8);
    long tokens = 0;
    for (long[] c : counts) {
      md.update(b.clear().putLong(c[2]).array());
      tokens += c[1];
    }
    return counts.size() + " samples, " + tokens + " tokens, digest " + Digests.hex(md.digest());
  }

  /** 64-bit FNV-1a over a sample's ids, labels, positions and segments. */
  static long hash(Sample s) {
    long h = 0xcbf29ce484222325L;
    for (int[] part : new int[][] {s.inputIds(), s.labels(), s.positions(), s.segments()}) {
      h = (h ^ (part == null ? -1 : part.length)) * 0x100000001b3L;
      if (part != null) {
        for (int v : part) {
          h = (h ^ v) * 0x100000001b3L;
        }
      }
    }
    return h;
  }
}
