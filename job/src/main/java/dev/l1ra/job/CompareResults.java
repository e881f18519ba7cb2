package dev.l1ra.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a finished comparison's numbers from the product's own outputs: each run's report.json
 * (ranks, parameters, allocation events), the JSON summaries of {@code eval} and {@code compress},
 * and the child commands' wall times.
 */
final class CompareResults {
  private CompareResults() {}

  static CompareTable.Table collect(ComparePlan p, Map<String, JsonNode> results) {
    JsonNode base = results.get("eval-base");
    List<CompareTable.Row> rows = new ArrayList<>();
    for (CompareSpec.Row r : p.rows()) {
      List<CompareTable.Run> runs = new ArrayList<>();
      for (long seed : p.seedsOf(r)) {
        String run = ComparePlan.runName(r, seed);
        JsonNode eval = results.get("eval-" + run);
        String trainedRun =
            r.trains() ? run : ComparePlan.runName(p.row(r.compress().from()), seed);
        long tokens = tokens(p.runDir(trainedRun).resolve("metrics.csv"));
        runs.add(
            r.trains()
                ? trained(seed, run, p.runDir(run), results.get("train-" + run), eval, tokens)
                : compressed(seed, run, results.get("compress-" + run), eval, tokens));
      }
      rows.add(new CompareTable.Row(r.name(), r.method(), r.settings(), runs));
    }
    return new CompareTable.Table(
        p.base().model().path(),
        new CompareTable.Eval(
            base.get("loss").asDouble(),
            base.get("perplexity").asDouble(),
            base.get("tokens").asLong()),
        rows,
        p.spec().rows().get(0).name());
  }

  /** The cumulative token count of metrics.csv's last step. */
  static long tokens(Path metrics) {
    try {
      List<String> lines = Files.readAllLines(metrics);
      String[] head = lines.get(0).split(",");
      String[] last = lines.get(lines.size() - 1).split(",", -1);
      return Long.parseLong(last[Arrays.asList(head).indexOf("tokens")]);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "compare: cannot read the token count of " + metrics + ": " + e, e);
    }
  }

  private static CompareTable.Run trained(
      long seed, String run, Path dir, JsonNode train, JsonNode eval, long tokens) {
    JsonNode rep = ChildTasks.read(dir.resolve("report.json"));
    Map<String, Double> byType = new LinkedHashMap<>();
    rep.get("rank_by_module_type")
        .forEach(m -> byType.put(m.get("module").asText(), m.get("mean_rank").asDouble()));
    int adapters = rep.get("ranks").size();
    return new CompareTable.Run(
        seed,
        run,
        rep.get("method").asText(),
        rep.get("total_rank").asInt(),
        rep.get("trainable_parameters").asLong(),
        eval.get("loss").asDouble(),
        eval.get("perplexity").asDouble(),
        train.get("wall_seconds").asDouble(),
        train.path("cpu_seconds").asDouble(),
        tokens,
        eval.get("wall_seconds").asDouble(),
        rep.get("allocation_events").asInt(),
        rep.get("ranks_moved").asInt(),
        rep.get("initial_total_rank").asDouble() / adapters,
        byType);
  }

  private static CompareTable.Run compressed(
      long seed, String run, JsonNode compress, JsonNode eval, long tokens) {
    return new CompareTable.Run(
        seed,
        run,
        "para",
        compress.get("total_rank_after").asInt(),
        compress.get("parameters_after").asLong(),
        eval.get("loss").asDouble(),
        eval.get("perplexity").asDouble(),
        compress.get("wall_seconds").asDouble(),
        compress.path("cpu_seconds").asDouble(),
        tokens,
        eval.get("wall_seconds").asDouble(),
        0,
        0,
        0, // PARA trains nothing: no start rank
        Map.of());
  }
}
