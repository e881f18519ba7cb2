package dev.l1ra.job.report;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.plan.RankPlan;
import dev.l1ra.model.train.L1raController;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ranks.csv}: one row per module per allocation event (step, layer, module, rank, min_gate,
 * mean_gate, pruned, added), and the initial allocation at step 0. Appended as events happen; a
 * resumed run first drops rows after its checkpoint. Also draws the rank heat-map (layer × module,
 * final ranks) and the rank evolution per module type.
 */
public final class RanksCsv implements L1raController.Listener {
  public static final String HEADER = "step,layer,module,rank,min_gate,mean_gate,pruned,added";

  private final Path file;

  /** step → total rank per module type, for the evolution chart. */
  private final Map<Integer, Map<String, Integer>> history = new LinkedHashMap<>();

  public RanksCsv(Path file) {
    this.file = file;
  }

  /** Starts the file (or trims it to {@code resumeStep}) and records the initial allocation. */
  public void start(AdapterLayout initial, int resumeStep) {
    try {
      List<String> kept = new ArrayList<>();
      if (resumeStep > 0 && Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (line.startsWith("step")
              || Integer.parseInt(line.substring(0, line.indexOf(','))) <= resumeStep) {
            kept.add(line);
            remember(line);
          }
        }
      }
      if (kept.isEmpty()) {
        kept.add(HEADER);
        for (AdapterSpec s : initial.specs()) {
          String row =
              row(0, s.id().layer(), s.id().kind(), s.rank(), Double.NaN, Double.NaN, 0, 0);
          kept.add(row);
          remember(row);
        }
      }
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, kept, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e, e);
    }
  }

  @Override
  public void onAllocation(int step, RankPlan plan, AdapterLayout after) {
    List<String> rows = new ArrayList<>();
    for (RankPlan.Change c : plan.changes()) {
      String row =
          row(
              step,
              c.id().layer(),
              c.id().kind(),
              c.newRank(),
              c.minGate(),
              c.meanGate(),
              c.pruned(),
              c.added());
      rows.add(row);
      remember(row);
    }
    try {
      Files.write(file, rows, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file + ": " + e, e);
    }
  }

  private static String row(
      int step, int layer, LinearKind k, int rank, double min, double mean, int pruned, int added) {
    return String.format(
        Locale.ROOT,
        "%d,%d,%s,%d,%s,%s,%d,%d",
        step,
        layer,
        k.shortName(),
        rank,
        num(min),
        num(mean),
        pruned,
        added);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }

  private void remember(String line) {
    if (line.startsWith("step")) {
      return;
    }
    String[] f = line.split(",", -1);
    history
        .computeIfAbsent(Integer.parseInt(f[0]), k -> new LinkedHashMap<>())
        .merge(f[2], Integer.parseInt(f[3]), Integer::sum);
  }

  /** Events recorded so far (allocation steps after the initial one). */
  public int events() {
    return Math.max(0, history.size() - 1);
  }

  /** Heat-map of final ranks (layer × module) and the rank evolution per module type. */
  public void charts(AdapterLayout fin, int layers, Path heatmap, Path evolution, String title) {
    List<LinearKind> kinds = fin.kinds();
    double[][] v = new double[layers][kinds.size()];
    for (AdapterSpec s : fin.specs()) {
      v[s.id().layer()][kinds.indexOf(s.id().kind())] = s.rank();
    }
    List<String> rowLabels = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      rowLabels.add("layer " + i);
    }
    Charts.heatmap(
        heatmap,
        "final ranks: " + title + " (Σr = " + fin.totalRank() + ")",
        rowLabels,
        kinds.stream().map(LinearKind::shortName).toList(),
        v);
    List<Charts.Series> series = new ArrayList<>();
    for (LinearKind k : kinds) {
      List<double[]> pts = new ArrayList<>();
      history.forEach(
          (step, ranks) -> pts.add(new double[] {step, ranks.getOrDefault(k.shortName(), 0)}));
      series.add(new Charts.Series(k.shortName(), pts));
    }
    Charts.lines(evolution, "total rank per module type: " + title, "step", "Σ rank", series);
  }
}
