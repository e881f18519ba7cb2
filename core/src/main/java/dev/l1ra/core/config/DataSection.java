package dev.l1ra.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Training data: tokenized Parquet written by data-prep ({@code input_ids}, {@code labels}).
 *
 * @param train tokenized train split
 * @param eval tokenized eval split (optional)
 * @param prep optional data-prep settings; when present, {@code run} prepares the data first (its
 *     keys are data-prep's, checked there) unless its output is already complete
 * @param sample optional synthetic sample to generate as prep's input when that file is missing
 */
public record DataSection(String train, String eval, Map<String, Object> prep, Sample sample) {
  public DataSection {
    ConfigException.check(
        train != null && !train.isBlank(),
        "data.train",
        train,
        "set the tokenized train Parquet path");
    prep = prep == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(prep));
  }

  /**
   * The bundled synthetic dataset (data-prep's SampleGenerator).
   *
   * @param path JSON Lines file to write
   */
  public record Sample(String path, Integer rows, Long seed) {
    public Sample {
      ConfigException.check(
          path != null && !path.isBlank(),
          "data.sample.path",
          path,
          "set where the sample JSONL goes");
      rows = rows == null ? 4000 : rows;
      seed = seed == null ? 7L : seed;
      ConfigException.check(rows > 0, "data.sample.rows", rows, "must be > 0");
    }
  }
}
