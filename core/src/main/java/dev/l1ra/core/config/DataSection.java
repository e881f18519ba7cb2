package dev.l1ra.core.config;

/**
 * Training data: tokenized Parquet written by data-prep ({@code input_ids}, {@code labels}).
 *
 * @param train tokenized train split
 * @param eval tokenized eval split (optional)
 * @param prep optional data-prep settings; when present the job runs data-prep first (its keys are
 *     those of data-prep's config, checked by data-prep)
 */
public record DataSection(String train, String eval, java.util.Map<String, Object> prep) {
  public DataSection {
    ConfigException.check(
        train != null && !train.isBlank(),
        "data.train",
        train,
        "set the tokenized train Parquet path");
    prep =
        prep == null
            ? java.util.Map.of()
            : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(prep));
  }
}
