package dev.l1ra.core.plan;

import dev.l1ra.core.hf.ModuleId;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * PARA post-hoc compression, the decision part: given the singular values of every trained adapter
 * (from the SVD of each ΔW = B·A, computed elsewhere), choose one global singular-value threshold τ
 * and the rank each adapter keeps. The applier keeps each adapter's top {@code rank} singular
 * triplets.
 *
 * <p>The rule, for both targets: an adapter keeps {@code max(1, #{σ ≥ τ})} ranks (every adapter
 * keeps at least its largest singular value). "Energy" is Σσ², the squared Frobenius norm of ΔW.
 *
 * <ul>
 *   <li>{@link Target#energy}: τ is the largest singular value such that the values ≥ τ, over all
 *       adapters, hold at least the fraction f of the total energy. Values tied with τ are all
 *       kept; the floor may add more. Kept energy is therefore ≥ f.
 *   <li>{@link Target#ranks}: exactly B ranks in total. Each adapter's largest value is reserved
 *       (the floor), the remaining B − n ranks go to the largest of all other values; τ is the
 *       smallest value so chosen (+∞ when B = n). Ties at τ are broken by module order, then by
 *       position, so Σ rank = B exactly; the result still satisfies rank = max(1, #{σ ≥ τ}) except
 *       for such ties.
 * </ul>
 *
 * Pure and deterministic; input order does not matter.
 */
public final class ParaCompressor {
  private ParaCompressor() {}

  /** One adapter's singular values (any order; non-negative and finite). */
  public record SingularValues(ModuleId id, double[] values) implements Serializable {
    private static final long serialVersionUID = 1L;

    public SingularValues {
      if (id == null) {
        throw new IllegalArgumentException("singular values need a module id, got null");
      }
      if (values == null || values.length == 0) {
        throw new IllegalArgumentException("adapter " + id + " has no singular values");
      }
      for (int j = 0; j < values.length; j++) {
        if (!(values[j] >= 0) || Double.isInfinite(values[j])) {
          throw new IllegalArgumentException(
              "adapter " + id + ": singular value " + j + " is " + values[j] + ", must be >= 0");
        }
      }
      values = values.clone();
    }

    @Override
    public double[] values() {
      return values.clone();
    }
  }

  /**
   * What to keep: an energy fraction in (0, 1], or a total rank budget (≥ number of adapters).
   * Exactly one of the two is set; use the factories.
   */
  public record Target(double energyFraction, int totalRank) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Target {
      boolean energy = energyFraction > 0 && energyFraction <= 1 && totalRank == 0;
      boolean ranks = energyFraction == 0 && totalRank > 0;
      if (!energy && !ranks) {
        throw new IllegalArgumentException(
            "para target needs an energy fraction in (0, 1] or a total rank > 0, got energy "
                + energyFraction
                + ", total rank "
                + totalRank);
      }
    }

    public static Target energy(double fraction) {
      return new Target(fraction, 0);
    }

    public static Target ranks(int total) {
      return new Target(0, total);
    }

    public boolean isEnergy() {
      return totalRank == 0;
    }
  }

  /**
   * @param threshold τ (+∞ when only the floor is kept)
   * @param ranks kept rank per adapter, in module order, each ≥ 1
   * @param keptEnergy Σσ² kept / Σσ² total (1 when the total is 0)
   */
  public record Result(double threshold, Map<ModuleId, Integer> ranks, double keptEnergy)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    public Result {
      ranks = Collections.unmodifiableMap(new TreeMap<>(ranks));
    }

    public int totalRank() {
      return ranks.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** Chooses τ and the kept ranks (rules in the class comment). */
  public static Result compress(List<SingularValues> adapters, Target target) {
    List<SingularValues> in = sorted(adapters);
    return target.isEnergy()
        ? byEnergy(in, target.energyFraction())
        : byRanks(in, target.totalRank());
  }

  /** A singular value with its adapter (index in module order) and position in that adapter. */
  private record Entry(double sigma, int adapter, int pos) {}

  /** Largest first; ties by module order, then by position. */
  private static final Comparator<Entry> DESCENDING =
      Comparator.comparingDouble((Entry e) -> -e.sigma())
          .thenComparingInt(Entry::adapter)
          .thenComparingInt(Entry::pos);

  private static Result byEnergy(List<SingularValues> in, double fraction) {
    List<Entry> all = entries(in, false);
    double total = 0;
    for (Entry e : all) {
      total += e.sigma() * e.sigma();
    }
    double tau = Double.POSITIVE_INFINITY;
    double cum = 0;
    for (int k = 0; k < all.size() && total > 0; k++) {
      cum += all.get(k).sigma() * all.get(k).sigma();
      if (cum >= fraction * total) {
        tau = all.get(k).sigma();
        break;
      }
    }
    Map<ModuleId, Integer> ranks = new TreeMap<>();
    for (SingularValues a : in) {
      int count = 0;
      for (double s : a.values()) {
        count += s >= tau ? 1 : 0;
      }
      ranks.put(a.id(), Math.max(1, count));
    }
    return new Result(tau, ranks, keptEnergy(in, ranks));
  }

  /**
   * All values in {@link #DESCENDING} order; without each adapter's largest one (first position of
   * the maximum) if {@code withoutTop}.
   */
  private static List<Entry> entries(List<SingularValues> in, boolean withoutTop) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      double[] v = in.get(i).values();
      int top = withoutTop ? argmax(v) : -1;
      for (int j = 0; j < v.length; j++) {
        if (j != top) {
          out.add(new Entry(v[j], i, j));
        }
      }
    }
    out.sort(DESCENDING);
    return out;
  }

  private static Result byRanks(List<SingularValues> in, int budget) {
    int n = in.size();
    int available = in.stream().mapToInt(a -> a.values().length).sum();
    if (budget < n || budget > available) {
      throw new IllegalArgumentException(
          "para total rank "
              + budget
              + " must lie in [number of adapters "
              + n
              + " (each keeps >= 1), current total rank "
              + available
              + "]");
    }
    List<Entry> pool = entries(in, true);
    int[] rank = new int[n];
    Arrays.fill(rank, 1);
    double tau = Double.POSITIVE_INFINITY;
    for (Entry e : pool.subList(0, budget - n)) {
      rank[e.adapter()]++;
      tau = e.sigma();
    }
    Map<ModuleId, Integer> ranks = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      ranks.put(in.get(i).id(), rank[i]);
    }
    return new Result(tau, ranks, keptEnergy(in, ranks));
  }

  /** First index of the largest value. */
  private static int argmax(double[] v) {
    int best = 0;
    for (int j = 1; j < v.length; j++) {
      if (v[j] > v[best]) {
        best = j;
      }
    }
    return best;
  }

  /** Energy of each adapter's top-rank values over the total energy (1 if the total is 0). */
  private static double keptEnergy(List<SingularValues> in, Map<ModuleId, Integer> ranks) {
    double kept = 0;
    double total = 0;
    for (SingularValues a : in) {
      double[] v = a.values();
      Arrays.sort(v);
      for (int j = 0; j < v.length; j++) {
        double e = v[j] * v[j];
        total += e;
        kept += j >= v.length - ranks.get(a.id()) ? e : 0;
      }
    }
    return total == 0 ? 1 : kept / total;
  }

  private static List<SingularValues> sorted(List<SingularValues> adapters) {
    if (adapters.isEmpty()) {
      throw new IllegalArgumentException("para compression needs at least one adapter");
    }
    List<SingularValues> in = new ArrayList<>(adapters);
    in.sort(Comparator.comparing(SingularValues::id));
    for (int i = 1; i < in.size(); i++) {
      if (in.get(i).id().equals(in.get(i - 1).id())) {
        throw new IllegalArgumentException("two sets of singular values for " + in.get(i).id());
      }
    }
    return in;
  }
}
