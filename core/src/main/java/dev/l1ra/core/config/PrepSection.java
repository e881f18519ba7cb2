package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.l1ra.core.hf.ChatFormat;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of one data-preparation run: {@code data.prep} of a run config, the {@code prep}
 * command's {@code --config} file, or its flags. Serializable: data-prep's Spark tasks carry it.
 *
 * @param input file, directory or glob of OpenOrca-schema rows
 * @param format auto (from the extension), jsonl, parquet or csv
 * @param columns mapping from our names (id, system_prompt, question, response) to the source's
 *     (Alpaca: question → instruction, response → output)
 * @param tokenizer tokenizer.json or the folder holding it
 * @param template auto (the family's format, from model_config's model_type), llama3, mistral or
 *     chatml
 * @param modelConfig the model's config.json (or folder) for template auto and the EOS; null for
 *     none
 * @param seqLen maximum tokens per row
 * @param mode truncate or pack
 * @param maxChars rows longer than this (system + question + response) are rejected
 * @param maxRejected the job fails when a larger share of rows is rejected
 * @param evalFraction share of ids (by hash) in the eval split
 * @param testFraction share of ids in the test split (0 for none)
 * @param outputPartitions Parquet files per split; also the packing buckets
 * @param fraction keep this share of the input, chosen by a hash of the id (deterministic; e.g.
 *     0.02 for the reference's 2% of OpenOrca)
 */
public record PrepSection(
    String input,
    Format format,
    Map<String, String> columns,
    String tokenizer,
    ChatFormat template,
    String modelConfig,
    int seqLen,
    Mode mode,
    int maxChars,
    double maxRejected,
    double evalFraction,
    double testFraction,
    String splitSalt,
    int outputPartitions,
    double fraction,
    String out)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Our names of the input fields; {@code columns} maps them to the source's. */
  public static final List<String> FIELDS = List.of("id", "system_prompt", "question", "response");

  /** The input's format. */
  public enum Format {
    /** From the extension of the input, or of the files in it. */
    AUTO,
    JSONL,
    PARQUET,
    CSV;

    /** Parses a config spelling: the lower-case name, or {@code json} for JSON Lines. */
    @JsonCreator
    public static Format parse(String name) {
      if (name.equals("json")) {
        return JSONL;
      }
      for (Format f : values()) {
        if (f.toString().equals(name)) {
          return f;
        }
      }
      throw new IllegalArgumentException("not one of " + List.of(values()));
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What happens to a sample shorter than {@code seq_len}. */
  public enum Mode {
    /** One sample per row, cut at seq_len on the response side. */
    TRUNCATE,
    /** Several samples per row, with positions restarting per sample. */
    PACK;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public PrepSection {
    ConfigException.check(
        input != null && !input.isBlank(),
        "prep.input",
        input,
        "set the input path (file, folder or glob)");
    ConfigException.check(
        tokenizer != null && !tokenizer.isBlank(),
        "prep.tokenizer",
        tokenizer,
        "set the tokenizer.json path or folder");
    ConfigException.check(out != null && !out.isBlank(), "prep.out", out, "set the output folder");
    columns = Map.copyOf(columns);
    for (String k : columns.keySet()) {
      ConfigException.check(
          FIELDS.contains(k), "prep.columns." + k, columns.get(k), "map only " + FIELDS);
    }
    ConfigException.check(
        template != ChatFormat.AUTO || modelConfig != null,
        "prep.template",
        template,
        "auto needs model_config (the model's config.json) to pick the template");
    ConfigException.check(seqLen >= 8, "prep.seq_len", seqLen, "must be >= 8");
    ConfigException.check(
        maxRejected >= 0 && maxRejected <= 1,
        "prep.max_rejected",
        maxRejected,
        "must be in [0, 1]");
    ConfigException.check(
        evalFraction >= 0 && testFraction >= 0 && evalFraction + testFraction < 1,
        "prep.eval_fraction",
        evalFraction,
        "eval + test fractions must be in [0, 1)");
    ConfigException.check(
        fraction > 0 && fraction <= 1, "prep.fraction", fraction, "must be in (0, 1]");
    ConfigException.check(
        outputPartitions >= 1, "prep.output_partitions", outputPartitions, "must be >= 1");
  }

  /** The source column for one of our fields. */
  public String column(String field) {
    return columns.getOrDefault(field, field);
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      String input,
      Format format,
      Map<String, String> columns,
      String tokenizer,
      ChatFormat template,
      String modelConfig,
      Integer seqLen,
      Mode mode,
      Integer maxChars,
      Double maxRejected,
      Double evalFraction,
      Double testFraction,
      String splitSalt,
      Integer outputPartitions,
      Double fraction,
      String out) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static PrepSection of(Keys k) {
    return new PrepSection(
        k.input(),
        requireNonNullElse(k.format(), Format.AUTO),
        requireNonNullElse(k.columns(), Map.of()),
        k.tokenizer(),
        requireNonNullElse(k.template(), ChatFormat.AUTO),
        k.modelConfig(),
        requireNonNullElse(k.seqLen(), 1024),
        requireNonNullElse(k.mode(), Mode.TRUNCATE),
        requireNonNullElse(k.maxChars(), 32_000),
        requireNonNullElse(k.maxRejected(), 0.05),
        requireNonNullElse(k.evalFraction(), 0.05),
        requireNonNullElse(k.testFraction(), 0.0),
        requireNonNullElse(k.splitSalt(), "l1ra"),
        requireNonNullElse(k.outputPartitions(), 4),
        requireNonNullElse(k.fraction(), 1.0),
        k.out());
  }
}
