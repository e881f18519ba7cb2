package dev.l1ra.core.plan;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Rank and trainable parameters per projection type and in total, with the share of the base
 * model's parameters: printed when a run starts and stored in its report.
 */
public final class RankTable {
  private RankTable() {}

  /** One projection type's line. */
  public record Row(
      String module, int adapters, int minRank, double meanRank, int maxRank, long parameters) {}

  public static List<Row> rows(AdapterLayout layout) {
    List<Row> out = new ArrayList<>();
    for (LinearKind k : layout.kinds()) {
      List<AdapterSpec> s = layout.specs().stream().filter(x -> x.id().kind() == k).toList();
      out.add(
          new Row(
              k.shortName(),
              s.size(),
              s.stream().mapToInt(AdapterSpec::rank).min().orElse(0),
              s.stream().mapToInt(AdapterSpec::rank).average().orElse(0),
              s.stream().mapToInt(AdapterSpec::rank).max().orElse(0),
              s.stream().mapToLong(AdapterSpec::parameters).sum()));
    }
    return out;
  }

  /** The table as aligned text. */
  public static String render(AdapterLayout layout, long baseParameters) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%-8s %8s %6s %7s %6s %14s %9s%n",
            "module",
            "adapters",
            "r min",
            "r mean",
            "r max",
            "params",
            "% base"));
    for (Row r : rows(layout)) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%-8s %8d %6d %7.2f %6d %,14d %8.4f%%%n",
              r.module(),
              r.adapters(),
              r.minRank(),
              r.meanRank(),
              r.maxRank(),
              r.parameters(),
              100.0 * r.parameters() / baseParameters));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "%-8s %8d %6s %7.2f %6s %,14d %8.4f%%   (Σr = %d)%n",
            "total",
            layout.size(),
            "",
            (double) layout.totalRank() / layout.size(),
            "",
            layout.parameters(),
            100.0 * layout.parameters() / baseParameters,
            layout.totalRank()));
    return sb.toString();
  }
}
