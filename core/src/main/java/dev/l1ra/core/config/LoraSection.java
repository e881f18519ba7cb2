package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.plan.RankStrategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adapter settings, PEFT names where PEFT has them.
 *
 * @param r base rank (r_base of the static strategies, r0 of L1RA)
 * @param alpha lora_alpha; scaling alpha/r (alpha/√r with rsLoRA), fixed at creation; defaults to r
 * @param targetModules module names, or "all-linear"
 * @param strategy rank strategy before training: uniform, linear_decay, attention_heavy, empirical
 * @param rMin lower clamp of the static strategies (and L1RA never goes below 1)
 * @param rMax upper clamp of the static strategies; defaults to 2r
 * @param rankPattern explicit per-module ranks (PEFT matching); applied after the strategy
 * @param init kaiming_uniform (PEFT default) or gaussian (N(0, 1/r²), the L1RA reference)
 */
public record LoraSection(
    int r,
    double alpha,
    List<String> targetModules,
    double dropout,
    boolean useRslora,
    RankStrategy strategy,
    int rMin,
    int rMax,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    AdapterInit init) {
  public LoraSection {
    targetModules = List.copyOf(targetModules);
    rankPattern = new LinkedHashMap<>(rankPattern);
    alphaPattern = new LinkedHashMap<>(alphaPattern);
    ConfigException.check(r > 0, "lora.r", r, "must be > 0");
    ConfigException.check(alpha > 0, "lora.alpha", alpha, "must be > 0");
    ConfigException.check(
        dropout >= 0 && dropout < 1, "lora.dropout", dropout, "must be in [0, 1)");
    ConfigException.check(
        rMin >= 1 && rMin <= r, "lora.r_min", rMin, "must be in [1, r=" + r + "]");
    ConfigException.check(rMax >= r, "lora.r_max", rMax, "must be >= r=" + r);
  }

  /** The PEFT-style settings with the uniform base rank (strategies adjust ranks afterwards). */
  public LoraSettings settings() {
    return new LoraSettings(
        r, alpha, targetModules, false, rankPattern, alphaPattern, useRslora, dropout, List.of());
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      Integer r,
      Double alpha,
      List<String> targetModules,
      Double dropout,
      Boolean useRslora,
      RankStrategy strategy,
      Integer rMin,
      Integer rMax,
      Map<String, Integer> rankPattern,
      Map<String, Double> alphaPattern,
      AdapterInit init) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static LoraSection of(Keys k) {
    int r = requireNonNullElse(k.r(), 8);
    return new LoraSection(
        r,
        requireNonNullElse(k.alpha(), (double) r),
        requireNonNullElse(k.targetModules(), List.of(LoraSettings.ALL_LINEAR)),
        requireNonNullElse(k.dropout(), 0.0),
        requireNonNullElse(k.useRslora(), false),
        requireNonNullElse(k.strategy(), RankStrategy.UNIFORM),
        requireNonNullElse(k.rMin(), 1),
        requireNonNullElse(k.rMax(), 2 * r),
        requireNonNullElse(k.rankPattern(), Map.of()),
        requireNonNullElse(k.alphaPattern(), Map.of()),
        requireNonNullElse(k.init(), AdapterInit.KAIMING_UNIFORM));
  }
}
