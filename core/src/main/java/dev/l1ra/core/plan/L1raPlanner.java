package dev.l1ra.core.plan;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * L1RA's rank reallocation as its authors implement it (shared/notes §1.4, {@code update_ranks}),
 * as a pure function: prune every rank whose gate is below the threshold (each adapter keeps at
 * least one), then hand the freed ranks out one at a time, round-robin, to the adapters ordered by
 * their smallest gate before pruning (largest first), skipping adapters pruned in this event.
 * Deterministic: inputs are ordered by module, ties broken by module order.
 *
 * <p>Beyond the reference: when the adapters allowed to receive are none or all at their maximum
 * rank, the rest of the freed ranks go round-robin to every adapter in the same order (the plan
 * says {@code fallback}) instead of vanishing; ranks that fit nowhere are an error, never lost; an
 * adapter whose gates are all dead keeps its largest gate; and a parameter budget (conserve Σ
 * r·(d_in+d_out)) is available.
 */
public final class L1raPlanner {

  /** Budget that reallocation conserves. */
  public enum Budget {
    /** Σ ranks, as the reference. */
    RANK,
    /** Σ r·(d_in + d_out): a rank moved into a larger matrix costs more. */
    PARAMETERS;

    /** The config spelling ({@code l1ra.budget}). */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * @param lrAb the A/B learning rate in the threshold lr_AB·λ + prune_threshold (the reference
   *     uses the configured base learning rate)
   * @param lambda the gates' L1 strength λ
   * @param pruneThreshold added to lr_AB·λ (reference default 1e-6)
   * @param reassign hand freed ranks out again (false: they are lost, as the reference's option)
   * @param excludePruned adapters pruned in this event receive nothing (reference default)
   */
  public record Settings(
      double lrAb,
      double lambda,
      double pruneThreshold,
      boolean reassign,
      boolean excludePruned,
      Budget budget)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    public double threshold() {
      return lrAb * lambda + pruneThreshold;
    }
  }

  private L1raPlanner() {}

  public static RankPlan plan(List<GateSnapshot> snapshots, Settings s) {
    List<GateSnapshot> in = sortedUnique(snapshots);
    int n = in.size();
    int[][] keep = new int[n][];
    boolean[] pruned = new boolean[n];
    int freed = 0;
    long freedParams = 0;
    for (int i = 0; i < n; i++) {
      keep[i] = survivors(in.get(i).gates(), s.threshold());
      int p = in.get(i).rank() - keep[i].length;
      pruned[i] = p > 0;
      freed += p;
      freedParams += (long) p * in.get(i).rankCost();
    }
    int[] added = new int[n];
    boolean fallback = false;
    long unused = 0;
    if (s.reassign() && freed > 0) {
      List<Integer> order = receivers(in, pruned, keep, s.excludePruned());
      if (s.budget() == Budget.RANK) {
        int given = roundRobinRanks(order, in, keep, added, freed);
        if (given < freed) {
          // the allowed receivers are empty or full: the pruned adapters take ranks back
          fallback = true;
          given +=
              roundRobinRanks(receivers(in, pruned, keep, false), in, keep, added, freed - given);
        }
        if (given < freed) {
          throw new IllegalStateException(
              (freed - given)
                  + " freed rank(s) fit nowhere: every adapter is at its maximum rank; lower the"
                  + " budget or raise the maximum");
        }
      } else {
        fallback = order.isEmpty();
        if (fallback) {
          order = receivers(in, pruned, keep, false);
        }
        unused = roundRobinParameters(order, in, keep, added, freedParams);
      }
    }
    List<RankPlan.Change> changes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      GateSnapshot g = in.get(i);
      changes.add(new RankPlan.Change(g.id(), g.rank(), keep[i], added[i], g.min(), g.mean()));
    }
    return new RankPlan(changes, freed, Arrays.stream(added).sum(), fallback, unused);
  }

  /** Snapshots in module order; two snapshots of one module are an error naming it. */
  private static List<GateSnapshot> sortedUnique(List<GateSnapshot> snapshots) {
    List<GateSnapshot> in = new ArrayList<>(snapshots);
    in.sort(Comparator.comparing(GateSnapshot::id));
    for (int i = 1; i < in.size(); i++) {
      if (in.get(i).id().equals(in.get(i - 1).id())) {
        throw new IllegalArgumentException(
            "two gate snapshots for " + in.get(i).id().hfName() + ": one per adapter expected");
      }
    }
    return in;
  }

  /**
   * Indices with c ≥ t. When every gate is below t the largest gate survives (ties: the last index,
   * which is the reference's choice of dropping the last index from the prune set).
   */
  static int[] survivors(double[] c, double t) {
    List<Integer> k = new ArrayList<>();
    for (int j = 0; j < c.length; j++) {
      if (!(c[j] < t)) {
        k.add(j);
      }
    }
    if (k.isEmpty()) {
      int best = c.length - 1;
      for (int j = c.length - 2; j >= 0; j--) {
        best = c[j] > c[best] ? j : best;
      }
      return new int[] {best};
    }
    return k.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Candidates by smallest gate before pruning, largest first; ties by module order. */
  private static List<Integer> receivers(
      List<GateSnapshot> in, boolean[] pruned, int[][] keep, boolean excludePruned) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      if (!(excludePruned && pruned[i]) && keep[i].length < in.get(i).maxRank()) {
        order.add(i);
      }
    }
    order.sort(
        Comparator.comparingDouble((Integer i) -> -in.get(i).min()).thenComparingInt(i -> i));
    return order;
  }

  /**
   * One rank per visit, cycling through {@code order}; adapters at their maximum are skipped.
   * Returns how many ranks were placed (fewer than {@code freed} when all are full).
   */
  private static int roundRobinRanks(
      List<Integer> order, List<GateSnapshot> in, int[][] keep, int[] added, int freed) {
    int given = 0;
    int idle = 0;
    for (int k = 0; given < freed && idle < order.size(); k++) {
      int i = order.get(k % order.size());
      if (keep[i].length + added[i] < in.get(i).maxRank()) {
        added[i]++;
        given++;
        idle = 0;
      } else {
        idle++;
      }
    }
    return given;
  }

  /** As ranks, but each new rank spends its adapter's rank cost from the freed parameters. */
  private static long roundRobinParameters(
      List<Integer> order, List<GateSnapshot> in, int[][] keep, int[] added, long budget) {
    long left = budget;
    int idle = 0;
    for (int k = 0; idle < order.size(); k++) {
      int i = order.get(k % order.size());
      long cost = in.get(i).rankCost();
      if (cost <= left && keep[i].length + added[i] < in.get(i).maxRank()) {
        added[i]++;
        left -= cost;
        idle = 0;
      } else {
        idle++;
      }
    }
    return left;
  }
}
