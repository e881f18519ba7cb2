package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * Training data: tokenized Parquet written by data-prep ({@code input_ids}, {@code labels}).
 *
 * @param train tokenized train split
 * @param eval tokenized eval split; null for none
 * @param prep data-prep settings, null for none; when present, {@code run} prepares the data first
 *     unless its output is already complete
 * @param sample synthetic sample to generate as prep's input when that file is missing; null for
 *     none
 */
public record DataSection(String train, String eval, PrepSection prep, Sample sample) {
  public DataSection {
    ConfigException.check(
        train != null && !train.isBlank(),
        "data.train",
        train,
        "set the tokenized train Parquet path");
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(String train, String eval, PrepSection prep, Sample sample) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static DataSection of(Keys k) {
    return new DataSection(k.train(), k.eval(), k.prep(), k.sample());
  }

  /**
   * The bundled synthetic dataset (data-prep's SampleGenerator).
   *
   * @param path JSON Lines file to write
   */
  public record Sample(String path, int rows, long seed) {
    public Sample {
      ConfigException.check(
          path != null && !path.isBlank(),
          "data.sample.path",
          path,
          "set where the sample JSONL goes");
      ConfigException.check(rows > 0, "data.sample.rows", rows, "must be > 0");
    }

    /** The keys as written (absent: null); see {@link RunConfigs}. */
    private record Keys(String path, Integer rows, Long seed) {}

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    private static Sample of(Keys k) {
      return new Sample(
          k.path(), requireNonNullElse(k.rows(), 4000), requireNonNullElse(k.seed(), 7L));
    }
  }
}
