package dev.l1ra.job;

import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The resolved comparison.
 *
 * @param base the preset with the command line's overrides (prep, eval data, model)
 * @param rows the rows that run (all, or --only's), each with its seeds (capped by --seeds)
 * @param sets the command line's overrides, applied to every row after its own
 */
record ComparePlan(
    CompareSpec spec,
    Path out,
    RunConfig base,
    List<CompareSpec.Row> rows,
    int seeds,
    List<String> sets,
    int jobs,
    int threads) {
  static ComparePlan of(CompareSpec spec, Args a) {
    RunConfig base = RunConfigs.load(Path.of(spec.preset()), a.sets());
    List<CompareSpec.Row> rows = spec.rows();
    if (a.has("only")) {
      List<String> only = Arrays.asList(a.get("only", "").split(","));
      for (String n : only) {
        if (rows.stream().noneMatch(r -> r.name().equals(n))) {
          throw new IllegalArgumentException(
              "compare: --only names row \""
                  + n
                  + "\", which is not in "
                  + rows.stream().map(CompareSpec.Row::name).toList());
        }
      }
      rows = rows.stream().filter(r -> only.contains(r.name())).toList();
    }
    return new ComparePlan(
        spec,
        Path.of(a.get("out", spec.out())),
        base,
        rows,
        a.getPositive("seeds", spec.seeds().size()),
        a.sets(),
        a.getPositive("jobs", spec.jobs()),
        a.getPositive("threads", spec.threads()));
  }

  /** The seeds row r runs with. */
  List<Long> seedsOf(CompareSpec.Row r) {
    List<Long> s = spec.seedsOf(r);
    return s.subList(0, Math.min(s.size(), seeds));
  }

  /** Run name of row r at one seed. */
  static String runName(CompareSpec.Row r, long seed) {
    return r.name() + "-s" + seed;
  }

  Path runDir(String run) {
    return out.resolve(run);
  }

  Path result(String task) {
    return out.resolve("results").resolve(task + ".json");
  }

  /** The overrides that turn the preset into row r's run at one seed. */
  List<String> trainSets(CompareSpec.Row r, long seed) {
    List<String> s = new ArrayList<>(r.set());
    s.addAll(sets);
    s.addAll(
        List.of(
            "run.name=" + runName(r, seed),
            "run.output_dir=" + out,
            "run.seed=" + seed,
            "run.baseline=false",
            "data.eval=null", // evaluated once at the end by `eval`, not inside training
            "train.threads=" + threads));
    return s;
  }

  RunConfig config(CompareSpec.Row r, long seed) {
    return RunConfigs.load(Path.of(spec.preset()), trainSets(r, seed));
  }

  CompareSpec.Row row(String name) {
    return spec.rows().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
  }
}
