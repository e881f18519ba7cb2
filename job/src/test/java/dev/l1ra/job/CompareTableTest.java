package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison table's arithmetic and wording, on hand-made runs. */
class CompareTableTest {
  private static CompareTable.Run run(
      long seed, String method, double ppl, Map<String, Double> ranks) {
    return new CompareTable.Run(
        seed,
        "r-s" + seed,
        method,
        336,
        325_632,
        Math.log(ppl),
        ppl,
        100,
        90,
        84_000,
        40,
        9,
        23,
        8,
        ranks);
  }

  private static CompareTable.Row row(String name, String method, double... ppl) {
    List<CompareTable.Run> runs =
        java.util.stream.IntStream.range(0, ppl.length)
            .mapToObj(i -> run(42 + i, method, ppl[i], Map.of()))
            .toList();
    return new CompareTable.Row(name, name, "", runs);
  }

  @Test
  void aDifferenceIsCalledOneOnlyBeyondTheLargerSeedRange() {
    CompareTable.Row ref = row("lora", "lora", 52.0, 52.4, 51.8); // range 0.6
    assertEquals("—", CompareTable.versus(ref, ref));
    assertEquals(
        "+0.50 (within seed spread; spread 0.60)",
        CompareTable.versus(row("x", "lora", 52.567), ref));
    assertEquals("+2.40 (higher; spread 0.60)", CompareTable.versus(row("x", "lora", 54.467), ref));
    assertEquals("-1.07 (lower; spread 0.60)", CompareTable.versus(row("x", "lora", 51.0), ref));
    // the other row's own range counts too: 3 seeds spread over 2.0
    assertEquals(
        "+1.07 (within seed spread; spread 2.00)",
        CompareTable.versus(row("y", "l1ra", 52.2, 54.2, 53.0), ref));
    assertEquals(
        "+1.00 (no seed spread to judge; spread 0.00)",
        CompareTable.versus(row("z", "lora", 53.0), row("one", "lora", 52.0)));
  }

  @Test
  void meanSdAndRangeOverSeeds() {
    CompareTable.Row r = row("lora", "lora", 50.0, 52.0, 54.0);
    assertEquals(52.0, r.mean(CompareTable.Run::perplexity), 1e-12);
    assertEquals(2.0, r.sd(CompareTable.Run::perplexity), 1e-12);
    assertEquals(4.0, r.range(CompareTable.Run::perplexity), 1e-12);
    String md =
        CompareTable.markdown(
            new CompareTable.Table(
                "m", new CompareTable.Eval(5.63, 278.8, 19238), List.of(r), "lora"));
    assertTrue(md.contains("| 52.00 ± 2.00 (50.00–54.00) |"), md);
    assertTrue(md.contains("perplexity 278.80 (19,238 learned tokens)"), md);
    assertTrue(md.contains("the same for every row: seed 42: [84,000]; seed 43: [84,000]"), md);
  }

  @Test
  void l1raRanksAreComparedWithTheReferenceDirectionPerModuleType() {
    Map<String, Double> ranks = new LinkedHashMap<>();
    // gate/up/o/down gain, q/k/v lose: the reference's pattern, except down staying at r0
    List.of("q", "k", "v").forEach(k -> ranks.put(k, 6.0));
    List.of("o", "gate", "up").forEach(k -> ranks.put(k, 10.0));
    ranks.put("down", 8.0);
    CompareTable.Row l1ra =
        new CompareTable.Row("l1ra", "L1RA", "", List.of(run(42, "l1ra", 55, ranks)));
    CompareTable.Table t =
        new CompareTable.Table("m", new CompareTable.Eval(1, 1, 1), List.of(l1ra), "l1ra");
    String md = CompareTable.ranks(t);
    assertTrue(md.contains("| L1RA (1 seeds) | 8.0 | 6.0 (-2.0) |"), md);
    assertTrue(md.contains("8.0 (+0.0) | 6 of 7 |"), md);
    assertTrue(md.contains("| reference: Mistral-7B, L1RA r16 | 16.0 | 9.9 (-6.1) |"), md);
    assertTrue(CompareTable.markdown(t).contains("| 9 / 23 |"), "events / ranks moved");
  }

  @Test
  void rowsThatTrainedOnDifferentTokensAreFlagged() {
    CompareTable.Run other =
        new CompareTable.Run(42, "x", "lora", 336, 1, 4, 55, 1, 1, 83_999, 1, 0, 0, 8, Map.of());
    CompareTable.Table t =
        new CompareTable.Table(
            "m",
            new CompareTable.Eval(5.6, 270, 10),
            List.of(row("lora", "lora", 50), new CompareTable.Row("x", "x", "", List.of(other))),
            "lora");
    assertTrue(
        CompareTable.tokens(t)
            .contains("**Rows trained on different token counts**: seed 42: [83,999, 84,000]"),
        CompareTable.tokens(t));
  }

  @Test
  void csvHasOneLinePerRunAndTheBase() {
    CompareTable.Table t =
        new CompareTable.Table(
            "m",
            new CompareTable.Eval(5.6, 270, 10),
            List.of(row("lora", "lora", 50, 51, 52), row("l1ra", "l1ra", 53)),
            "lora");
    List<String> lines = CompareTable.csv(t).lines().toList();
    assertEquals(1 + 1 + 4, lines.size());
    int cols = lines.get(0).split(",", -1).length;
    lines.forEach(
        l -> assertEquals(cols, l.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1).length, l));
    assertTrue(
        lines.get(5).startsWith("l1ra,\"l1ra\",\"\",42,r-s42,l1ra,336,325632,"), lines.get(5));
  }
}
