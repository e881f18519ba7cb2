package dev.l1ra.job.spark.transport;

import java.util.Locale;

/**
 * How {@link Reduction} sums the partitions' payloads (driver-side settings; never captured by a
 * task closure).
 *
 * <ul>
 *   <li>{@code SCATTER}: a reduce-scatter through one shuffle. Every partition's payload is cut
 *       into {@code chunks} ranges keyed by chunk; reduce task c sums chunk c of every partition
 *       (in partition order); the driver collects the summed chunks: one full copy in all.
 *   <li>{@code TREE}: a fixed tree. Partitions are summed in contiguous groups of {@code fanIn}
 *       (partition order inside a group), one shuffle per level, until at most {@code fanIn}
 *       partials remain; the driver collects those and sums them in order. With {@code fanIn ≥ P}
 *       there is no shuffle and the driver receives all P payloads (Spark's plain collect).
 * </ul>
 *
 * Both are deterministic: the summation order depends on partition indices only, never on which
 * task finishes first (Spark's own treeAggregate and fold combine in arrival order).
 *
 * @param chunks SCATTER: ranges, one reduce task each (≥ 1)
 * @param fanIn TREE: partials summed per reduce task and at the driver (≥ 2)
 * @param resultDtype the type in which summed payloads travel (to the next level or the driver);
 *     null: the inputs' type
 */
public record ReducePlan(Strategy strategy, int chunks, int fanIn, PayloadDtype resultDtype) {
  /** Reduce-scatter or fixed tree. */
  public enum Strategy {
    SCATTER,
    TREE;

    /** {@code scatter} or {@code tree}. */
    public static Strategy parse(String s) {
      for (Strategy v : values()) {
        if (v.name().equalsIgnoreCase(s)) {
          return v;
        }
      }
      throw new IllegalArgumentException("reduction \"" + s + "\" is not scatter or tree");
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The tree's default fan-in: partials per reduce task, and the most the driver receives. */
  public static final int DEFAULT_FAN_IN = 4;

  public ReducePlan {
    if (chunks < 1) {
      throw new IllegalArgumentException("reduce plan: chunks must be ≥ 1, got " + chunks);
    }
    if (fanIn < 2) {
      throw new IllegalArgumentException("reduce plan: fan-in must be ≥ 2, got " + fanIn);
    }
  }

  /** Reduce-scatter with one chunk (and reduce task) per partition. */
  public static ReducePlan scatter(int partitions) {
    return new ReducePlan(Strategy.SCATTER, Math.max(1, partitions), DEFAULT_FAN_IN, null);
  }

  /** A fixed tree of the given fan-in. */
  public static ReducePlan tree(int fanIn) {
    return new ReducePlan(Strategy.TREE, 1, fanIn, null);
  }

  /** Everything to the driver, summed there in partition order: the baseline. */
  public static ReducePlan direct(int partitions) {
    return new ReducePlan(Strategy.TREE, 1, Math.max(2, partitions), null);
  }

  /** Up to this many partitions the driver collects every payload (no shuffle). */
  public static final int DIRECT_MAX = 4;

  /**
   * The plan for P partitions (one per executor): a plain collect summed in partition order while P
   * ≤ {@value #DIRECT_MAX}, else a reduce-scatter over P chunks. A collect saves the shuffle's
   * stage, disk write and read; a reduce-scatter keeps the driver's intake at one copy whatever P
   * (README, Distributed training, gives the measurements and the cost model behind the rule).
   */
  public static ReducePlan forPartitions(int partitions) {
    return partitions <= DIRECT_MAX ? direct(partitions) : scatter(partitions);
  }

  public ReducePlan withResultDtype(PayloadDtype d) {
    return new ReducePlan(strategy, chunks, fanIn, d);
  }

  /** Tree levels (shuffles) for P partitions: ⌈log_fanIn P⌉ − 1, at least 0. */
  public int treeLevels(int partitions) {
    int levels = 0;
    for (int n = partitions; n > fanIn; n = (n + fanIn - 1) / fanIn) {
      levels++;
    }
    return levels;
  }

  @Override
  public String toString() {
    return strategy == Strategy.SCATTER
        ? "scatter over " + chunks + " chunk(s)"
        : "tree of fan-in " + fanIn;
  }
}
