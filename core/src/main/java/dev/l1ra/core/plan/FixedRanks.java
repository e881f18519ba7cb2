package dev.l1ra.core.plan;

import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link RankStrategy} that returns ranks given explicitly, e.g. an allocation resolved from a
 * PEFT {@code rank_pattern} (see {@link AdapterLayout#resolve}) or one read back from a previous
 * run. The given ranks are returned as they are: r_base, r_min and r_max are ignored (an explicit
 * choice is not clamped). Asking for a module the map does not hold is an error.
 *
 * <p>Not in {@link RankStrategy#ALL}: it needs its map, so it has no config name to look up.
 */
public final class FixedRanks implements RankStrategy {
  private final Map<ModuleId, Integer> ranks;

  public FixedRanks(Map<ModuleId, Integer> ranks) {
    if (ranks.isEmpty()) {
      throw new IllegalArgumentException("fixed ranks need at least one module");
    }
    ranks.forEach(
        (id, r) -> {
          if (r == null || r < 1) {
            throw new IllegalArgumentException("fixed rank of " + id + " must be >= 1, got " + r);
          }
        });
    this.ranks = Collections.unmodifiableMap(new TreeMap<>(ranks));
  }

  /** The ranks of a resolved layout. */
  public static FixedRanks of(AdapterLayout layout) {
    Map<ModuleId, Integer> m = new TreeMap<>();
    for (AdapterSpec s : layout.specs()) {
      m.put(s.id(), s.rank());
    }
    return new FixedRanks(m);
  }

  /** The given ranks, in module order. */
  public Map<ModuleId, Integer> ranks() {
    return ranks;
  }

  @Override
  public int rank(ModuleId module, int layers, int rBase, int rMin, int rMax) {
    Integer r = ranks.get(module);
    if (r == null) {
      throw new IllegalArgumentException(
          "no fixed rank for module " + module + "; the map holds " + ranks.size() + " modules");
    }
    return r;
  }

  @Override
  public String name() {
    return "fixed";
  }
}
