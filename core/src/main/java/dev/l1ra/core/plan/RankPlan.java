package dev.l1ra.core.plan;

import dev.l1ra.core.hf.ModuleId;
import java.io.Serializable;
import java.util.List;

/**
 * The decision of one allocation event, small and serializable (it travels from the Spark driver's
 * planner to whoever applies it).
 *
 * @param changes one entry per adapter, in module order (unchanged adapters included)
 * @param freed ranks pruned in this event
 * @param reassigned ranks handed out again (equals {@code freed} in rank-budget mode)
 * @param fallback true when no adapter could receive under the exclusion rule, so the freed ranks
 *     went to all adapters in the same order instead of being lost
 * @param unusedParameters parameter budget left over (parameter-budget mode), else 0
 */
public record RankPlan(
    List<Change> changes, int freed, int reassigned, boolean fallback, long unusedParameters)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * One adapter's part of the plan.
   *
   * @param keep rank indices that survive, ascending
   * @param added new ranks appended after the kept ones
   * @param minGate smallest gate before pruning
   * @param meanGate mean gate before pruning
   */
  public record Change(
      ModuleId id, int oldRank, int[] keep, int added, double minGate, double meanGate)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    public int newRank() {
      return keep.length + added;
    }

    public int pruned() {
      return oldRank - keep.length;
    }

    public boolean changed() {
      return pruned() > 0 || added > 0;
    }
  }

  public int totalRankBefore() {
    return changes.stream().mapToInt(Change::oldRank).sum();
  }

  public int totalRankAfter() {
    return changes.stream().mapToInt(Change::newRank).sum();
  }
}
