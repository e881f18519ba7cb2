package dev.l1ra.core.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.l1ra.core.hf.ModuleId;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A static rank allocation chosen before training (from the adaptive-LoRA layer-wise study): a rank
 * for each adapted module given its layer depth and projection kind.
 *
 * <p>Rounding: each formula is evaluated in double precision, rounded half up to an integer ({@code
 * Math.floor(x + 0.5)}), then clamped to [r_min, r_max] and to at least 1.
 */
public interface RankStrategy {

  /** Rank of one module in a model of {@code layers} layers. */
  int rank(ModuleId module, int layers, int rBase, int rMin, int rMax);

  /** The strategy's name in configs (written as the strategy's YAML value). */
  @JsonValue
  String name();

  /** Ranks of all modules. */
  default Map<ModuleId, Integer> ranks(
      Collection<ModuleId> modules, int layers, int rBase, int rMin, int rMax) {
    Map<ModuleId, Integer> out = new TreeMap<>();
    for (ModuleId m : modules) {
      out.put(m, rank(m, layers, rBase, rMin, rMax));
    }
    return out;
  }

  /** Round half up, clamp to [rMin, rMax], at least 1. */
  static int round(double x, int rMin, int rMax) {
    long r = (long) Math.floor(x + 0.5);
    return (int) Math.max(1, Math.max(rMin, Math.min(rMax, r)));
  }

  /** uniform: r_base everywhere. */
  RankStrategy UNIFORM =
      new RankStrategy() {
        @Override
        public int rank(ModuleId m, int layers, int rBase, int rMin, int rMax) {
          return rBase;
        }

        @Override
        public String name() {
          return "uniform";
        }
      };

  /** linear_decay: max(r_min, r_base − (r_base − r_min)·i/(L−1)) over depth i. */
  RankStrategy LINEAR_DECAY =
      new RankStrategy() {
        @Override
        public int rank(ModuleId m, int layers, int rBase, int rMin, int rMax) {
          double frac = layers <= 1 ? 0 : (double) m.layer() / (layers - 1);
          return round(Math.max(rMin, rBase - (rBase - rMin) * frac), rMin, rMax);
        }

        @Override
        public String name() {
          return "linear_decay";
        }
      };

  /** attention_heavy: attention r_base, MLP max(r_min, r_base/2). */
  RankStrategy ATTENTION_HEAVY =
      new RankStrategy() {
        @Override
        public int rank(ModuleId m, int layers, int rBase, int rMin, int rMax) {
          return m.kind().isAttention()
              ? round(rBase, rMin, rMax)
              : round(Math.max(rMin, rBase / 2.0), rMin, rMax);
        }

        @Override
        public String name() {
          return "attention_heavy";
        }
      };

  /**
   * empirical (middle-heavy): 0.6·r_base for i < 0.3L, 1.2·r_base for 0.3L ≤ i < 0.7L, r_base
   * otherwise, clamped to [r_min, r_max].
   */
  RankStrategy EMPIRICAL =
      new RankStrategy() {
        @Override
        public int rank(ModuleId m, int layers, int rBase, int rMin, int rMax) {
          int i = m.layer();
          double r = i < 0.3 * layers ? 0.6 * rBase : i < 0.7 * layers ? 1.2 * rBase : rBase;
          return round(r, rMin, rMax);
        }

        @Override
        public String name() {
          return "empirical";
        }
      };

  /** All strategies, by config name. */
  List<RankStrategy> ALL = List.of(UNIFORM, LINEAR_DECAY, ATTENTION_HEAVY, EMPIRICAL);

  /** The strategy of a config name ({@code lora.strategy}); the message leaves out the name. */
  @JsonCreator
  static RankStrategy named(String name) {
    return ALL.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "not one of " + ALL.stream().map(RankStrategy::name).toList()));
  }
}
