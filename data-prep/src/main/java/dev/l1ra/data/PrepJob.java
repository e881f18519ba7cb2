package dev.l1ra.data;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.hf.ChatFormat;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.data.template.ChatTemplate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The data-preparation job: read → check → de-duplicate ids → split by hash(id) → chat template and
 * tokenisation (one tokenizer per partition) → truncate or pack → tokenized Parquet per split,
 * {@code _rejected} with a reason per bad row, and {@code stats.json}. Output goes to a temporary
 * folder that replaces {@code out} only when the run succeeds.
 */
public final class PrepJob {
  private static final Logger LOG = LoggerFactory.getLogger(PrepJob.class);
  public static final List<String> SPLITS = List.of("train", "eval", "test");

  private PrepJob() {}

  public static PrepResult run(SparkSession spark, PrepSection cfg) {
    return run(spark, cfg, PrepFingerprint.of(cfg, spark.sparkContext().hadoopConfiguration()));
  }

  /**
   * As {@link #run(SparkSession, PrepSection)}, with the inputs' fingerprint already taken (stored
   * in stats.json). The tokenizer and the output folder are checked here, on the driver, before any
   * Spark task could fail on them.
   */
  public static PrepResult run(SparkSession spark, PrepSection cfg, Map<String, String> fp) {
    long t0 = System.nanoTime();
    ChatTemplate template = template(cfg);
    checkTokenizer(cfg);
    PrepOutput output = PrepOutput.begin(spark, cfg.out());
    try {
      PrepResult result = prepare(spark, cfg, fp, template, output, t0);
      output.removeLeftovers();
      return result;
    } catch (RuntimeException e) {
      output.discard();
      throw e;
    }
  }

  private static PrepResult prepare(
      SparkSession spark,
      PrepSection cfg,
      Map<String, String> fp,
      ChatTemplate template,
      PrepOutput output,
      long t0) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    LongAccumulator rows = sc.sc().longAccumulator("prep rows");
    LongAccumulator tokens = sc.sc().longAccumulator("prep tokens");
    try (Progress progress = Progress.start(rows, tokens)) {
      JavaRDD<RawRow> raw =
          subset(InputReader.read(spark, cfg), cfg).persist(StorageLevel.MEMORY_AND_DISK());
      JavaRDD<RawRow> checked = dedupe(raw).persist(StorageLevel.MEMORY_AND_DISK());
      JavaRDD<Tokenization.Outcome> outcomes =
          tokenize(checked.filter(RawRow::ok), cfg, template, rows, tokens)
              .persist(StorageLevel.MEMORY_AND_DISK());
      JavaRDD<RawRow> rejected =
          checked
              .filter(r -> !r.ok())
              .union(
                  outcomes.filter(o -> o.reason() != null).map(o -> o.source().reject(o.reason())));
      JavaRDD<Tokenized> good =
          outcomes.filter(o -> o.row() != null).map(Tokenization.Outcome::row);
      Map<String, Long> reasons = new TreeMap<>(rejected.map(RawRow::reason).countByValue());
      long read = raw.count();
      PrepStats stats = good.aggregate(new PrepStats(), PrepStats::add, PrepStats::merge);
      output.writeRejected(rejected);
      checkRejectedShare(cfg, read, reasons, output);
      Map<String, Long> written = new TreeMap<>();
      long packed = 0;
      for (String split : SPLITS) {
        JavaRDD<Tokenized> part = good.filter(t -> t.split().equals(split));
        JavaRDD<Tokenized> rowsOut = cfg.mode() == PrepSection.Mode.PACK ? pack(part, cfg) : part;
        long n = output.writeSplit(split, rowsOut, cfg.outputPartitions());
        if (n > 0 || split.equals("train")) {
          written.put(split, n);
        }
        packed += cfg.mode() == PrepSection.Mode.PACK ? n : 0;
      }
      PrepResult result =
          new PrepResult(
              cfg.out(),
              read,
              written,
              reasons,
              stats,
              packed,
              template.name(),
              cfg.mode().toString(),
              cfg.seqLen(),
              (System.nanoTime() - t0) / 1e9,
              fp);
      output.commit(result);
      raw.unpersist(false);
      outcomes.unpersist(false);
      return result;
    }
  }

  /** The tokenizer loads here, on the driver, or the job stops naming it (before Spark tasks). */
  private static void checkTokenizer(PrepSection cfg) {
    PrepFingerprint.requireTokenizer(cfg.tokenizer());
    try {
      Tokenization.open(cfg.tokenizer()).close();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "prep.tokenizer "
              + cfg.tokenizer()
              + " cannot be loaded ("
              + e.getMessage()
              + "); it must be a Hugging Face tokenizer.json (or the folder holding it)",
          e);
    }
  }

  /** The configured template, or with auto the model family's. */
  static ChatTemplate template(PrepSection cfg) {
    return ChatTemplate.of(
        cfg.template() == ChatFormat.AUTO
            ? ModelConfigs.load(Path.of(cfg.modelConfig())).family().chatFormat()
            : cfg.template());
  }

  /** Rows sharing an id: the one with the smallest content hash stays, the others are rejected. */
  static JavaRDD<RawRow> dedupe(JavaRDD<RawRow> raw) {
    JavaRDD<RawRow> bad = raw.filter(r -> !r.ok());
    JavaRDD<RawRow> good =
        raw.filter(RawRow::ok)
            .mapToPair(r -> new Tuple2<>(r.id(), r))
            .groupByKey()
            .flatMap(
                g -> {
                  List<RawRow> same = new ArrayList<>();
                  g._2().forEach(same::add);
                  same.sort(
                      Comparator.comparingLong(RawRow::contentHash)
                          .thenComparing(
                              RawRow::raw, Comparator.nullsFirst(Comparator.naturalOrder())));
                  List<RawRow> out = new ArrayList<>();
                  for (int i = 0; i < same.size(); i++) {
                    out.add(i == 0 ? same.get(i) : same.get(i).reject("duplicate_id"));
                  }
                  return out.iterator();
                });
    return bad.union(good);
  }

  private static JavaRDD<Tokenization.Outcome> tokenize(
      JavaRDD<RawRow> rows,
      PrepSection cfg,
      ChatTemplate template,
      LongAccumulator rowCount,
      LongAccumulator tokenCount) {
    // resolved here: a relative path would resolve against each executor's Spark work folder
    String tokenizer = Path.of(cfg.tokenizer()).toAbsolutePath().toString();
    return rows.mapPartitions(
        (Iterator<RawRow> it) -> {
          List<RawRow> all = new ArrayList<>();
          it.forEachRemaining(all::add);
          try (Tokenization tok = new Tokenization(tokenizer, template, cfg.seqLen())) {
            List<Tokenization.Outcome> out = tok.tokenize(all, id -> split(cfg, id));
            rowCount.add(all.size());
            tokenCount.add(
                out.stream().filter(o -> o.row() != null).mapToLong(o -> o.row().length()).sum());
            return out.iterator();
          }
        });
  }

  /**
   * The configured share of rows, by a hash of the id (rows without an id stay, to be rejected).
   */
  static JavaRDD<RawRow> subset(JavaRDD<RawRow> rows, PrepSection cfg) {
    if (cfg.fraction() >= 1) {
      return rows;
    }
    double f = cfg.fraction();
    String salt = "subset:" + cfg.splitSalt();
    return rows.filter(r -> r.id() == null || Hashes.unit(salt, r.id()) < f);
  }

  /** train / eval / test by a hash of the id: stable across runs and partition counts. */
  static String split(PrepSection cfg, String id) {
    double u = Hashes.unit(cfg.splitSalt(), id);
    return u < cfg.evalFraction()
        ? "eval"
        : u < cfg.evalFraction() + cfg.testFraction() ? "test" : "train";
  }

  /** Buckets by hash(id) (independent of input partitioning), sorts by id, packs each bucket. */
  private static JavaRDD<Tokenized> pack(JavaRDD<Tokenized> rows, PrepSection cfg) {
    int k = cfg.outputPartitions();
    int seq = cfg.seqLen();
    JavaPairRDD<Integer, Tokenized> keyed =
        rows.mapToPair(t -> new Tuple2<>(Math.floorMod(Hashes.fnv64(t.id()), k), t));
    return keyed
        .partitionBy(new HashPartitioner(k))
        .mapPartitions(
            it -> {
              List<Tokenized> all = new ArrayList<>();
              it.forEachRemaining(t -> all.add(t._2()));
              all.sort(Comparator.comparing(Tokenized::id));
              return Packer.pack(all.iterator(), seq).iterator();
            });
  }

  private static void checkRejectedShare(
      PrepSection cfg, long read, Map<String, Long> reasons, PrepOutput output) {
    long rejected = reasons.values().stream().mapToLong(Long::longValue).sum();
    double share = read == 0 ? 0 : (double) rejected / read;
    if (read == 0) {
      throw new IllegalArgumentException("input " + cfg.input() + " has no rows");
    }
    if (share > cfg.maxRejected()) {
      String kept = output.abandon();
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "%d of %d rows (%.1f%%) were rejected, more than prep.max_rejected = %.1f%%; by reason: %s. The rejected rows are in %s; %s is unchanged. Fix the input or raise max_rejected.",
              rejected,
              read,
              100 * share,
              100 * cfg.maxRejected(),
              reasons,
              kept,
              cfg.out()));
    }
  }
}
