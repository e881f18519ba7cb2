package dev.l1ra.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.l1ra.core.config.ConfigException;
import dev.l1ra.core.config.RunConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A method comparison ({@code compare SPEC}): one run preset, and rows that each change it with
 * {@code --set} overrides (or compress another row's adapter with PARA), trained with the same
 * steps, batch and data order; rows with several seeds give the spread. Read from YAML with the run
 * configs' rules: snake_case keys, unknown keys are errors, messages name the key.
 *
 * @param preset the run config every row starts from (its data.prep prepares the data)
 * @param out folder for every run, log and result of the comparison
 * @param seeds run.seed of each repetition; a row runs with the first {@code row.seeds} of them
 * @param jobs training/eval processes at a time (each a JVM of its own)
 * @param threads intra-op threads of each process
 * @param generate the greedy-answer check on held-out questions (optional)
 * @param rows the table's rows, in order
 */
record CompareSpec(
    String preset,
    String out,
    List<Long> seeds,
    Integer jobs,
    Integer threads,
    Generate generate,
    List<Row> rows) {
  CompareSpec {
    ConfigException.check(preset != null, "preset", null, "name the run config the rows change");
    out = out == null ? "runs/compare" : out;
    seeds = seeds == null ? List.of(42L) : List.copyOf(seeds);
    jobs = jobs == null ? 1 : jobs;
    threads = threads == null ? 1 : threads;
    ConfigException.check(!seeds.isEmpty(), "seeds", seeds, "give at least one seed");
    ConfigException.check(new HashSet<>(seeds).size() == seeds.size(), "seeds", seeds, "repeated");
    ConfigException.check(jobs >= 1, "jobs", jobs, "must be >= 1");
    ConfigException.check(threads >= 1, "threads", threads, "must be >= 1");
    ConfigException.check(rows != null && !rows.isEmpty(), "rows", rows, "list the rows");
    rows = List.copyOf(rows);
    Set<String> seen = new HashSet<>();
    for (Row r : rows) {
      ConfigException.check(seen.add(r.name()), "rows.name", r.name(), "is used twice");
      ConfigException.check(
          r.seeds() <= seeds.size(),
          "rows." + r.name() + ".seeds",
          r.seeds(),
          "more than the " + seeds.size() + " seeds listed");
      if (r.compress() != null) {
        Row from =
            rows.stream()
                .filter(x -> x.name().equals(r.compress().from()))
                .findFirst()
                .orElse(null);
        ConfigException.check(
            from != null && from.compress() == null && from.seeds() >= r.seeds(),
            "rows." + r.name() + ".compress.from",
            r.compress().from(),
            "must name a training row (listed before it, with at least as many seeds)");
        ConfigException.check(
            rows.indexOf(from) < rows.indexOf(r),
            "rows." + r.name() + ".compress.from",
            r.compress().from(),
            "must be listed before " + r.name());
      }
    }
  }

  /**
   * One row of the table.
   *
   * @param name run-name stem (runs are {@code <name>-s<seed>})
   * @param method the table's method column
   * @param settings the table's settings column
   * @param seeds how many of the spec's seeds this row runs with (default 1)
   * @param set {@code key=value} overrides of the preset for this row
   * @param compress instead of training: PARA compression of another row's adapter
   */
  record Row(
      String name,
      String method,
      String settings,
      Integer seeds,
      List<String> set,
      Compress compress) {
    Row {
      ConfigException.check(
          name != null && name.matches("[A-Za-z0-9._-]+"),
          "rows.name",
          name,
          "use letters, digits, '.', '_' or '-'");
      method = method == null ? name : method;
      settings = settings == null ? "" : settings;
      seeds = seeds == null ? 1 : seeds;
      set = set == null ? List.of() : List.copyOf(set);
      ConfigException.check(seeds >= 1, "rows." + name + ".seeds", seeds, "must be >= 1");
      ConfigException.check(
          compress == null || set.isEmpty(),
          "rows." + name + ".set",
          set,
          "a compress row trains nothing; its settings come from compress.from's row");
    }

    boolean trains() {
      return compress == null;
    }
  }

  /**
   * PARA post-hoc compression of another row's trained adapters.
   *
   * @param from the row whose adapters (one per seed) are compressed
   * @param totalRankFraction keep this fraction of that adapter's Σr (rounded), chosen by one
   *     global singular-value threshold
   */
  record Compress(String from, Double totalRankFraction) {
    Compress {
      ConfigException.check(from != null, "compress.from", null, "name the row to compress");
      ConfigException.check(
          totalRankFraction != null && totalRankFraction > 0 && totalRankFraction <= 1,
          "compress.total_rank_fraction",
          totalRankFraction,
          "must be in (0, 1]");
    }
  }

  /**
   * Greedy answers of the base model and of every adapter (first seed) to held-out questions.
   *
   * @param ids ids of rows of data.prep.input that are in the eval split
   * @param maxTokens answer length limit in tokens
   */
  record Generate(List<String> ids, Integer maxTokens) {
    Generate {
      ids = ids == null ? List.of() : List.copyOf(ids);
      maxTokens = maxTokens == null ? 48 : maxTokens;
      ConfigException.check(maxTokens >= 1, "generate.max_tokens", maxTokens, "must be >= 1");
    }
  }

  static CompareSpec load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("comparison file " + file + " does not exist");
    }
    try {
      JsonNode tree = RunConfigs.yaml().readTree(file.toFile());
      return RunConfigs.parse(tree, CompareSpec.class);
    } catch (IOException e) {
      throw new ConfigException(
          "comparison file " + file + " is not valid YAML: " + e.getMessage());
    } catch (ConfigException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
  }

  /** The seeds row {@code r} runs with. */
  List<Long> seedsOf(Row r) {
    return seeds.subList(0, r.seeds());
  }
}
