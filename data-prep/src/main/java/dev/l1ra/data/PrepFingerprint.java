package dev.l1ra.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.run.RunFingerprint;
import dev.l1ra.core.util.Digests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What prepared data was made from, stored in its {@code stats.json}: the input files (path, size,
 * modification time), the tokenizer (path, size, content digest), the model config when the
 * template comes from it, every prep setting and the output schema version. A run reuses prepared
 * data only when this is unchanged ({@link #staleBecause}); otherwise it prepares again and logs
 * why.
 */
public final class PrepFingerprint {
  public static final String KEY = "fingerprint";
  private static final String INPUT = "prep.input";
  private static final Logger LOG = LoggerFactory.getLogger(PrepFingerprint.class);

  private PrepFingerprint() {}

  /** The fingerprint of preparing {@code cfg} now (files on any Hadoop file system). */
  public static Map<String, String> of(PrepSection cfg, Configuration hadoop) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put(INPUT, HadoopFiles.listing(cfg.input(), hadoop));
    f.put("prep.tokenizer", file(requireTokenizer(cfg.tokenizer())));
    if (cfg.modelConfig() != null) {
      Path c = Path.of(cfg.modelConfig());
      f.put("prep.model_config", file(Files.isDirectory(c) ? c.resolve("config.json") : c));
    }
    f.put("prep.format", cfg.format().toString());
    f.put("prep.columns", new TreeMap<>(cfg.columns()).toString());
    f.put("prep.template", cfg.template().toString());
    f.put("prep.seq_len", String.valueOf(cfg.seqLen()));
    f.put("prep.mode", cfg.mode().toString());
    f.put("prep.max_chars", String.valueOf(cfg.maxChars()));
    f.put("prep.max_rejected", String.valueOf(cfg.maxRejected()));
    f.put("prep.eval_fraction", String.valueOf(cfg.evalFraction()));
    f.put("prep.test_fraction", String.valueOf(cfg.testFraction()));
    f.put("prep.split_salt", cfg.splitSalt());
    f.put("prep.output_partitions", String.valueOf(cfg.outputPartitions()));
    f.put("prep.fraction", String.valueOf(cfg.fraction()));
    f.put("schema_version", String.valueOf(PrepResult.SCHEMA_VERSION));
    return f;
  }

  /**
   * Why the data in {@code out} must be prepared (again), or empty when its stats.json holds this
   * fingerprint.
   */
  public static Optional<String> staleBecause(
      PrepSection cfg, Map<String, String> now, Configuration hadoop) {
    String out = cfg.out();
    JsonNode saved;
    try {
      JsonNode stats = HadoopFiles.readJson(out, "stats.json", hadoop);
      if (stats == null) {
        return Optional.of("it is not prepared yet (no stats.json in " + out + ")");
      }
      saved = stats.get(KEY);
    } catch (IOException e) {
      return Optional.of("its stats.json is unreadable (" + e.getMessage() + ")");
    }
    if (saved == null || !saved.isObject()) {
      return Optional.of("its stats.json has no fingerprint (prepared by an older version)");
    }
    Map<String, String> old = new LinkedHashMap<>();
    saved.fields().forEachRemaining(e -> old.put(e.getKey(), e.getValue().asText()));
    if (now.get(INPUT).startsWith("0 file(s)")) {
      LOG.warn(
          "prep input {} matches no file now; using the data prepared from it in {} as it is",
          cfg.input(),
          out);
      return Optional.empty();
    }
    List<RunFingerprint.Mismatch> bad = RunFingerprint.compare(old, now);
    List<String> missing = now.keySet().stream().filter(k -> !old.containsKey(k)).toList();
    if (bad.isEmpty() && missing.isEmpty()) {
      return Optional.empty();
    }
    List<String> why =
        new ArrayList<>(bad.stream().map(RunFingerprint.Mismatch::toString).toList());
    missing.forEach(k -> why.add(k + " was not recorded"));
    return Optional.of(String.join("; ", why));
  }

  /**
   * tokenizer.json itself, or the one in the folder given.
   *
   * @throws IllegalArgumentException naming the path and the fix when there is none
   */
  public static Path requireTokenizer(String tokenizer) {
    Path p = Path.of(tokenizer);
    Path file = Files.isDirectory(p) ? p.resolve("tokenizer.json") : p;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "prep.tokenizer "
              + tokenizer
              + ": "
              + (Files.isDirectory(p) ? "the folder has no tokenizer.json" : "no such file")
              + "; point it at the model folder that holds tokenizer.json, or at the file"
              + " (CLI: --tokenizer)");
    }
    return file;
  }

  /** Path, size and content digest of a local file. */
  private static String file(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    try {
      return abs + ", " + Files.size(abs) + " bytes, sha256 " + Digests.ofFile(abs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + abs + " to fingerprint it: " + e, e);
    }
  }
}
