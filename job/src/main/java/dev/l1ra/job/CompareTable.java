package dev.l1ra.job;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * The comparison's numbers and their markdown: one line per row with the mean, standard deviation
 * and range over its seeds, each row's perplexity against the first row's (called a difference only
 * when it exceeds the seed spread: the larger of the two rows' max−min ranges), and the L1RA rows'
 * final mean rank per module type next to the reference's Mistral-7B run.
 */
final class CompareTable {
  private CompareTable() {}

  /** Module types in table order. */
  static final List<String> TYPES = List.of("q", "k", "v", "o", "gate", "up", "down");

  /**
   * Mean final rank per module type of the L1RA authors' Mistral-7B v0.3 run l1ra-2025-03-02 (r0
   * 16, ratio 0.05; ../shared/notes/reference-methods.md §2).
   */
  static final Map<String, Double> REFERENCE_MISTRAL =
      Map.of("q", 9.9, "k", 8.8, "v", 6.4, "o", 19.2, "gate", 27.9, "up", 22.4, "down", 17.4);

  static final int REFERENCE_R0 = 16;

  /** Base-model eval. */
  record Eval(double loss, double perplexity, long tokens) {}

  /**
   * One run of a row (one seed).
   *
   * @param method the run's allocation method (lora, l1ra, adalora, para)
   * @param initialRank mean rank per adapter at the start (r0 for L1RA)
   * @param trainSeconds the training command's wall time (JVM start included; the compression's for
   *     PARA rows)
   * @param meanRankByType final mean rank per module type (empty when not known)
   */
  record Run(
      long seed,
      String run,
      String method,
      int totalRank,
      long parameters,
      double evalLoss,
      double perplexity,
      double trainSeconds,
      double trainCpuSeconds,
      long tokens,
      double evalSeconds,
      int events,
      int ranksMoved,
      double initialRank,
      Map<String, Double> meanRankByType) {}

  record Row(String name, String method, String settings, List<Run> runs) {
    double mean(ToDoubleFunction<Run> f) {
      return runs.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    /** Sample standard deviation (0 for one run). */
    double sd(ToDoubleFunction<Run> f) {
      if (runs.size() < 2) {
        return 0;
      }
      double m = mean(f);
      double ss = runs.stream().mapToDouble(r -> Math.pow(f.applyAsDouble(r) - m, 2)).sum();
      return Math.sqrt(ss / (runs.size() - 1));
    }

    /** max − min (0 for one run). */
    double range(ToDoubleFunction<Run> f) {
      var s = runs.stream().mapToDouble(f).summaryStatistics();
      return s.getMax() - s.getMin();
    }
  }

  /**
   * @param reference the row the others are compared with (the first)
   */
  record Table(String model, Eval base, List<Row> rows, String reference) {}

  static String markdown(Table t) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "Base model %s: eval loss %.4f, perplexity %.2f (%,d learned tokens).%n%n",
            t.model(),
            t.base().loss(),
            t.base().perplexity(),
            t.base().tokens()));
    Row ref =
        t.rows().stream().filter(r -> r.name().equals(t.reference())).findFirst().orElse(null);
    b.append(
        "| method | settings | seeds | Σr | trainable params | eval loss | perplexity | vs "
            + (ref == null ? "first row" : ref.method())
            + " | train time | L1RA events / ranks moved |\n");
    b.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : t.rows()) {
      b.append(
          String.join(
              " | ",
              "| " + r.method(),
              r.settings(),
              String.valueOf(r.runs().size()),
              spanInt(r, Run::totalRank),
              spanInt(r, x -> x.parameters()),
              meanSd(r, Run::evalLoss, "%.4f"),
              perplexity(r),
              versus(r, ref),
              time(r),
              moves(r) + " |\n"));
    }
    b.append(tokens(t));
    b.append(ranks(t));
    return b.toString();
  }

  private static String spanInt(Row r, ToDoubleFunction<Run> f) {
    var s = r.runs().stream().mapToDouble(f).summaryStatistics();
    return s.getMin() == s.getMax()
        ? String.format(Locale.ROOT, "%,d", (long) s.getMin())
        : String.format(Locale.ROOT, "%,d–%,d", (long) s.getMin(), (long) s.getMax());
  }

  private static String meanSd(Row r, ToDoubleFunction<Run> f, String fmt) {
    String m = String.format(Locale.ROOT, fmt, r.mean(f));
    return r.runs().size() < 2 ? m : m + " ± " + String.format(Locale.ROOT, fmt, r.sd(f));
  }

  private static String perplexity(Row r) {
    if (r.runs().size() < 2) {
      return meanSd(r, Run::perplexity, "%.2f");
    }
    var s = r.runs().stream().mapToDouble(Run::perplexity).summaryStatistics();
    return meanSd(r, Run::perplexity, "%.2f")
        + String.format(Locale.ROOT, " (%.2f–%.2f)", s.getMin(), s.getMax());
  }

  /** Δ perplexity against the reference row, and whether it exceeds the seed spread. */
  static String versus(Row r, Row ref) {
    if (ref == null || r == ref) {
      return "—";
    }
    double spread = Math.max(ref.range(Run::perplexity), r.range(Run::perplexity));
    double d = r.mean(Run::perplexity) - ref.mean(Run::perplexity);
    String verdict =
        spread == 0
            ? "no seed spread to judge"
            : Math.abs(d) <= spread ? "within seed spread" : d < 0 ? "lower" : "higher";
    return String.format(Locale.ROOT, "%+.2f (%s; spread %.2f)", d, verdict, spread);
  }

  private static String time(Row r) {
    String t = String.format(Locale.ROOT, "%.0f s", r.mean(Run::trainSeconds));
    return r.runs().stream().allMatch(x -> x.method().equals("para")) ? t + " (compress)" : t;
  }

  private static String moves(Row r) {
    if (r.runs().stream().noneMatch(x -> x.method().equals("l1ra"))) {
      return "—";
    }
    List<String> s = new ArrayList<>();
    r.runs().forEach(x -> s.add(x.events() + " / " + x.ranksMoved()));
    return String.join(", ", s);
  }

  /** Whether every row trained on the same tokens at each seed (same steps, batch, data order). */
  static String tokens(Table t) {
    Map<Long, Set<Long>> bySeed = new TreeMap<>();
    t.rows()
        .forEach(
            r ->
                r.runs()
                    .forEach(
                        x ->
                            bySeed
                                .computeIfAbsent(x.seed(), k -> new TreeSet<>())
                                .add(x.tokens())));
    boolean equal = bySeed.values().stream().allMatch(s -> s.size() == 1);
    StringBuilder b =
        new StringBuilder(
            equal
                ? "\nTokens trained on, the same for every row: "
                : "\n**Rows trained on different token counts**: ");
    List<String> parts = new ArrayList<>();
    bySeed.forEach(
        (seed, n) ->
            parts.add(
                String.format(
                    Locale.ROOT,
                    "seed %d: %s",
                    seed,
                    n.stream().map(v -> String.format(Locale.ROOT, "%,d", v)).toList())));
    return b.append(String.join("; ", parts)).append(".\n").toString();
  }

  /** Final mean rank per module type of the L1RA rows against the reference's Mistral-7B run. */
  static String ranks(Table t) {
    List<Row> l1ra =
        t.rows().stream()
            .filter(r -> r.runs().stream().allMatch(x -> x.method().equals("l1ra")))
            .filter(r -> r.runs().stream().allMatch(x -> !x.meanRankByType().isEmpty()))
            .toList();
    if (l1ra.isEmpty()) {
      return "";
    }
    StringBuilder b =
        new StringBuilder("\nFinal mean rank per module type (start → end; change):\n\n");
    b.append("| row | r0 | ")
        .append(String.join(" | ", TYPES))
        .append(" | same direction as the reference |\n");
    b.append("|---|---|").append("---|".repeat(TYPES.size() + 1)).append('\n');
    for (Row r : l1ra) {
      double r0 = r.mean(Run::initialRank);
      Map<String, Double> mean = new LinkedHashMap<>();
      TYPES.forEach(k -> mean.put(k, r.mean(x -> x.meanRankByType().getOrDefault(k, Double.NaN))));
      b.append(rankLine(r.method() + " (" + r.runs().size() + " seeds)", r0, mean, true));
    }
    b.append(rankLine("reference: Mistral-7B, L1RA r16", REFERENCE_R0, REFERENCE_MISTRAL, false));
    return b.toString();
  }

  private static String rankLine(
      String label, double r0, Map<String, Double> mean, boolean compare) {
    StringBuilder b = new StringBuilder("| " + label + " | " + fmt(r0) + " | ");
    int same = 0;
    for (String k : TYPES) {
      double m = mean.get(k);
      b.append(String.format(Locale.ROOT, "%s (%+.1f) | ", fmt(m), m - r0));
      double ref = REFERENCE_MISTRAL.get(k) - REFERENCE_R0;
      same += Math.signum(Math.round((m - r0) * 10)) == Math.signum(ref) ? 1 : 0;
    }
    b.append(compare ? same + " of " + TYPES.size() : "—").append(" |\n");
    return b.toString();
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /** One CSV line per run with every number. */
  static String csv(Table t) {
    StringBuilder b =
        new StringBuilder(
            "row,method,settings,seed,run,allocation,total_rank,trainable_parameters,eval_loss,"
                + "perplexity,train_seconds,train_cpu_seconds,tokens,eval_seconds,allocation_events,ranks_moved,"
                + "initial_rank");
    TYPES.forEach(k -> b.append(",mean_rank_").append(k));
    b.append('\n');
    b.append(
        String.format(
            Locale.ROOT,
            "base,base model,,,,,0,0,%.6f,%.4f,0,0,0,0,0,0,0%s%n",
            t.base().loss(),
            t.base().perplexity(),
            ",".repeat(TYPES.size())));
    for (Row r : t.rows()) {
      for (Run x : r.runs()) {
        b.append(
            String.format(
                Locale.ROOT,
                "%s,%s,%s,%d,%s,%s,%d,%d,%.6f,%.4f,%.1f,%.1f,%d,%.1f,%d,%d,%.3f",
                r.name(),
                quoted(r.method()),
                quoted(r.settings()),
                x.seed(),
                x.run(),
                x.method(),
                x.totalRank(),
                x.parameters(),
                x.evalLoss(),
                x.perplexity(),
                x.trainSeconds(),
                x.trainCpuSeconds(),
                x.tokens(),
                x.evalSeconds(),
                x.events(),
                x.ranksMoved(),
                x.initialRank()));
        TYPES.forEach(
            k -> {
              Double m = x.meanRankByType().get(k);
              b.append(',').append(m == null ? "" : String.format(Locale.ROOT, "%.3f", m));
            });
        b.append('\n');
      }
    }
    return b.toString();
  }

  private static String quoted(String s) {
    return '"' + s.replace("\"", "\"\"") + '"';
  }
}
