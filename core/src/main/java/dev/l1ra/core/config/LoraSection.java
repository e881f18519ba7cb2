package dev.l1ra.core.config;

import dev.l1ra.core.lora.LoraSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adapter settings, PEFT names where PEFT has them.
 *
 * @param r base rank (r_base of the static strategies, r0 of L1RA)
 * @param alpha lora_alpha; scaling alpha/r (alpha/√r with rsLoRA), fixed at creation
 * @param targetModules module names, or "all-linear"
 * @param strategy rank strategy before training: uniform, linear_decay, attention_heavy, empirical
 * @param rMin lower clamp of the static strategies (and L1RA never goes below 1)
 * @param rMax upper clamp of the static strategies
 * @param rankPattern explicit per-module ranks (PEFT matching); applied after the strategy
 * @param init kaiming_uniform (PEFT default) or gaussian (N(0, 1/r²), the L1RA reference)
 */
public record LoraSection(
    Integer r,
    Double alpha,
    List<String> targetModules,
    Double dropout,
    Boolean useRslora,
    String strategy,
    Integer rMin,
    Integer rMax,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    String init) {
  public LoraSection {
    r = r == null ? 8 : r;
    alpha = alpha == null ? (double) r : alpha;
    targetModules =
        targetModules == null ? List.of(LoraSettings.ALL_LINEAR) : List.copyOf(targetModules);
    dropout = dropout == null ? 0.0 : dropout;
    useRslora = useRslora != null && useRslora;
    strategy = strategy == null ? "uniform" : strategy;
    rMin = rMin == null ? 1 : rMin;
    rMax = rMax == null ? Math.max(2 * r, r) : rMax;
    rankPattern = rankPattern == null ? Map.of() : new LinkedHashMap<>(rankPattern);
    alphaPattern = alphaPattern == null ? Map.of() : new LinkedHashMap<>(alphaPattern);
    init = init == null ? "kaiming_uniform" : init;
    ConfigException.check(r > 0, "lora.r", r, "must be > 0");
    ConfigException.check(alpha > 0, "lora.alpha", alpha, "must be > 0");
    ConfigException.check(
        dropout >= 0 && dropout < 1, "lora.dropout", dropout, "must be in [0, 1)");
    ConfigException.check(
        rMin >= 1 && rMin <= r, "lora.r_min", rMin, "must be in [1, r=" + r + "]");
    ConfigException.check(rMax >= r, "lora.r_max", rMax, "must be >= r=" + r);
    ConfigException.check(
        List.of("kaiming_uniform", "gaussian").contains(init),
        "lora.init",
        init,
        "use kaiming_uniform or gaussian");
  }

  /** The PEFT-style settings with the uniform base rank (strategies adjust ranks afterwards). */
  public LoraSettings settings() {
    return new LoraSettings(
        r, alpha, targetModules, false, rankPattern, alphaPattern, useRslora, dropout, List.of());
  }
}
