package dev.l1ra.data;

import dev.l1ra.core.config.ConfigException;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Settings of one data-preparation run (snake_case keys in YAML, or CLI flags).
 *
 * @param input file, directory or glob of OpenOrca-schema rows
 * @param format auto (from the extension), jsonl, parquet or csv
 * @param columns mapping from our names (id, system_prompt, question, response) to the source's
 *     (Alpaca: question → instruction, response → output)
 * @param tokenizer tokenizer.json or the folder holding it
 * @param template auto (from model_config's model_type), llama3, mistral or chatml
 * @param modelConfig the model's config.json (or folder) for template auto and the EOS
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
public record PrepConfig(
    String input,
    String format,
    Map<String, String> columns,
    String tokenizer,
    String template,
    String modelConfig,
    Integer seqLen,
    String mode,
    Integer maxChars,
    Double maxRejected,
    Double evalFraction,
    Double testFraction,
    String splitSalt,
    Integer outputPartitions,
    Double fraction,
    String out)
    implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final List<String> FIELDS = List.of("id", "system_prompt", "question", "response");

  public PrepConfig {
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
    format = format == null ? "auto" : format;
    ConfigException.check(
        List.of("auto", "jsonl", "json", "parquet", "csv").contains(format),
        "prep.format",
        format,
        "use auto, jsonl, parquet or csv");
    columns = columns == null ? Map.of() : Map.copyOf(columns);
    for (String k : columns.keySet()) {
      ConfigException.check(
          FIELDS.contains(k), "prep.columns." + k, columns.get(k), "map only " + FIELDS);
    }
    template = template == null ? "auto" : template;
    ConfigException.check(
        List.of("auto", "llama3", "mistral", "llama2", "chatml", "qwen2").contains(template),
        "prep.template",
        template,
        "use auto, llama3, mistral, chatml");
    ConfigException.check(
        !template.equals("auto") || modelConfig != null,
        "prep.template",
        template,
        "auto needs model_config (the model's config.json) to pick the template");
    seqLen = seqLen == null ? 1024 : seqLen;
    ConfigException.check(seqLen >= 8, "prep.seq_len", seqLen, "must be >= 8");
    mode = mode == null ? "truncate" : mode;
    ConfigException.check(
        List.of("truncate", "pack").contains(mode), "prep.mode", mode, "use truncate or pack");
    maxChars = maxChars == null ? 32_000 : maxChars;
    maxRejected = maxRejected == null ? 0.05 : maxRejected;
    ConfigException.check(
        maxRejected >= 0 && maxRejected <= 1,
        "prep.max_rejected",
        maxRejected,
        "must be in [0, 1]");
    evalFraction = evalFraction == null ? 0.05 : evalFraction;
    testFraction = testFraction == null ? 0.0 : testFraction;
    ConfigException.check(
        evalFraction >= 0 && testFraction >= 0 && evalFraction + testFraction < 1,
        "prep.eval_fraction",
        evalFraction,
        "eval + test fractions must be in [0, 1)");
    splitSalt = splitSalt == null ? "l1ra" : splitSalt;
    outputPartitions = outputPartitions == null ? 4 : outputPartitions;
    fraction = fraction == null ? 1.0 : fraction;
    ConfigException.check(
        fraction > 0 && fraction <= 1, "prep.fraction", fraction, "must be in (0, 1]");
    ConfigException.check(
        outputPartitions >= 1, "prep.output_partitions", outputPartitions, "must be >= 1");
  }

  /** The source column for one of our fields. */
  public String column(String field) {
    return columns.getOrDefault(field, field);
  }

  /** The input format: the option, else the extension of the path or of the files in it. */
  public String resolvedFormat() {
    if (!format.equals("auto")) {
      return format.equals("json") ? "jsonl" : format;
    }
    String name = input.toLowerCase(java.util.Locale.ROOT);
    java.nio.file.Path p = java.nio.file.Path.of(input.replaceAll("[*?].*$", "x"));
    if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(input))) {
      try (var files = java.nio.file.Files.list(java.nio.file.Path.of(input))) {
        name =
            files
                .map(f -> f.getFileName().toString().toLowerCase(java.util.Locale.ROOT))
                .filter(f -> !f.startsWith(".") && !f.startsWith("_"))
                .sorted()
                .findFirst()
                .orElse(name);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot list input " + input, e);
      }
    } else if (p.getFileName() != null) {
      name = input.toLowerCase(java.util.Locale.ROOT);
    }
    if (name.endsWith(".csv")) {
      return "csv";
    }
    if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
      return "jsonl";
    }
    return "parquet";
  }
}
