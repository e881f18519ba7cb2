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
 * AdaLoRA's masking decision as a pure function (PEFT {@code RankAllocator.mask_to_budget};
 * shared/notes §1.2): one global threshold over the importance scores of every singular-value
 * triplet of every adapter, then {@code lora_E} entries with score ≤ threshold are zeroed. The
 * budget comes from {@link AdaLoraBudget#at(int)}.
 *
 * <p>PEFT never resizes the tensors during training, so the flattened score vector always has
 * init_bgt = Σ init_r entries and its {@code k = init_bgt − budget} equals {@code scores.length −
 * budget} here; masked triplets keep being scored and may come back at the next event.
 *
 * <p>Ties: PEFT masks {@code score <= kthvalue(scores, k)}, so every triplet tied with the k-th
 * smallest score is masked and fewer than {@code budget} triplets may be kept. This is reproduced,
 * not corrected. When k = 0 (budget equals the number of triplets) PEFT's {@code torch.kthvalue}
 * would fail; here nothing is masked.
 */
public final class AdaLoraMasking {
  private AdaLoraMasking() {}

  /** Importance scores of one adapter's triplets (one per rank of its init_r). */
  public record TripletScores(ModuleId owner, double[] scores) implements Serializable {
    private static final long serialVersionUID = 1L;

    public TripletScores {
      if (owner == null) {
        throw new IllegalArgumentException("triplet scores need an owner module, got null");
      }
      if (scores == null || scores.length == 0) {
        throw new IllegalArgumentException("adapter " + owner + " has no triplet scores");
      }
      for (int j = 0; j < scores.length; j++) {
        if (Double.isNaN(scores[j])) {
          throw new IllegalArgumentException(
              "adapter " + owner + ": triplet score " + j + " is NaN");
        }
      }
      scores = scores.clone();
    }

    @Override
    public double[] scores() {
      return scores.clone();
    }
  }

  /**
   * The decision of one masking event.
   *
   * @param threshold scores ≤ threshold are masked (−∞: nothing masked)
   * @param keep per adapter, in module order, which triplets stay (true) or are masked (false)
   */
  public record Mask(double threshold, Map<ModuleId, boolean[]> keep) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Mask {
      Map<ModuleId, boolean[]> copy = new TreeMap<>();
      keep.forEach((id, k) -> copy.put(id, k.clone()));
      keep = Collections.unmodifiableMap(copy);
    }

    /** Kept triplets of one adapter (a copy). */
    public boolean[] keep(ModuleId id) {
      boolean[] k = keep.get(id);
      if (k == null) {
        throw new IllegalArgumentException("no adapter " + id + " in this mask");
      }
      return k.clone();
    }

    /** Active rank of one adapter: its kept triplets. */
    public int rank(ModuleId id) {
      int r = 0;
      for (boolean b : keep(id)) {
        r += b ? 1 : 0;
      }
      return r;
    }

    /** Kept triplets over all adapters (≤ the budget; less when scores tie at the threshold). */
    public int kept() {
      return keep.keySet().stream().mapToInt(this::rank).sum();
    }
  }

  /**
   * PEFT's threshold: the k-th smallest score (1-based, {@code torch.kthvalue}) with k = {@code
   * scores.length − budget}; −∞ when k = 0.
   *
   * @param budget triplets to keep, in [0, scores.length]
   */
  public static double threshold(double[] scores, int budget) {
    if (budget < 0 || budget > scores.length) {
      throw new IllegalArgumentException(
          "adalora budget "
              + budget
              + " must lie in [0, number of triplets "
              + scores.length
              + "]");
    }
    int k = scores.length - budget;
    if (k == 0) {
      return Double.NEGATIVE_INFINITY;
    }
    double[] s = scores.clone();
    Arrays.sort(s);
    return s[k - 1];
  }

  /** Which triplets of every adapter survive a budget (rules in the class comment). */
  public static Mask mask(List<TripletScores> adapters, int budget) {
    List<TripletScores> in = new ArrayList<>(adapters);
    in.sort(Comparator.comparing(TripletScores::owner));
    for (int i = 1; i < in.size(); i++) {
      if (in.get(i).owner().equals(in.get(i - 1).owner())) {
        throw new IllegalArgumentException("two sets of triplet scores for " + in.get(i).owner());
      }
    }
    double[] all = in.stream().flatMapToDouble(t -> Arrays.stream(t.scores())).toArray();
    double t = threshold(all, budget);
    Map<ModuleId, boolean[]> keep = new TreeMap<>();
    for (TripletScores a : in) {
      double[] s = a.scores();
      boolean[] k = new boolean[s.length];
      for (int j = 0; j < s.length; j++) {
        k[j] = s[j] > t;
      }
      keep.put(a.owner(), k);
    }
    return new Mask(t, keep);
  }
}
