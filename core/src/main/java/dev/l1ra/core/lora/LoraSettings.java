package dev.l1ra.core.lora;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a LoRA adapter asks for, in PEFT's terms: default rank and alpha, target modules, and
 * per-module exceptions. Pattern maps keep their insertion order because PEFT's matching is
 * first-match-wins in that order.
 *
 * @param r default rank
 * @param alpha default lora_alpha
 * @param targetModules module names (suffix match at a dot boundary), or one regular expression
 *     when {@code targetRegex} is set, or the single entry {@code all-linear}
 * @param targetRegex PEFT semantics of a string {@code target_modules}: full-match regex
 * @param rankPattern module-name pattern → rank
 * @param alphaPattern module-name pattern → alpha
 * @param useRslora scaling alpha/sqrt(r) instead of alpha/r
 * @param dropout LoRA dropout probability on the adapter input
 * @param layersToTransform layer indices to adapt, or empty for all
 */
public record LoraSettings(
    int r,
    double alpha,
    List<String> targetModules,
    boolean targetRegex,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    boolean useRslora,
    double dropout,
    List<Integer> layersToTransform) {

  /** The seven linear projections, PEFT's "all-linear" for Llama-family models. */
  public static final String ALL_LINEAR = "all-linear";

  public LoraSettings {
    if (r <= 0) {
      throw new IllegalArgumentException("lora r must be > 0, got " + r);
    }
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("lora alpha must be > 0, got " + alpha);
    }
    if (targetModules == null || targetModules.isEmpty()) {
      throw new IllegalArgumentException(
          "lora target_modules is empty; name modules (e.g. [q_proj, v_proj]) or use all-linear");
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("lora dropout must be in [0, 1), got " + dropout);
    }
    rankPattern.forEach(
        (k, v) -> {
          if (v == null || v <= 0) {
            throw new IllegalArgumentException(
                "lora rank_pattern \"" + k + "\" must be a rank > 0, got " + v);
          }
        });
    alphaPattern.forEach(
        (k, v) -> {
          if (v == null || !(v > 0)) {
            throw new IllegalArgumentException(
                "lora alpha_pattern \"" + k + "\" must be > 0, got " + v);
          }
        });
    targetModules = List.copyOf(targetModules);
    rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
    alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
    layersToTransform = layersToTransform == null ? List.of() : List.copyOf(layersToTransform);
  }

  /** Rank of a module under PEFT's rule: the first matching rank_pattern key, else r. */
  public int rankOf(String moduleName) {
    return PatternKeys.patternKey(rankPattern, moduleName).map(rankPattern::get).orElse(r);
  }

  /** Alpha of a module under PEFT's rule: the first matching alpha_pattern key, else alpha. */
  public double alphaOf(String moduleName) {
    return PatternKeys.patternKey(alphaPattern, moduleName).map(alphaPattern::get).orElse(alpha);
  }

  /** Uniform rank r with alpha on the given targets, no patterns, no dropout. */
  public static LoraSettings uniform(int r, double alpha, List<String> targets) {
    return new LoraSettings(r, alpha, targets, false, Map.of(), Map.of(), false, 0.0, List.of());
  }

  public LoraSettings withRankPattern(Map<String, Integer> pattern) {
    return new LoraSettings(
        r,
        alpha,
        targetModules,
        targetRegex,
        pattern,
        alphaPattern,
        useRslora,
        dropout,
        layersToTransform);
  }

  public LoraSettings withAlphaPattern(Map<String, Double> pattern) {
    return new LoraSettings(
        r,
        alpha,
        targetModules,
        targetRegex,
        rankPattern,
        pattern,
        useRslora,
        dropout,
        layersToTransform);
  }

  public LoraSettings withRslora(boolean rslora) {
    return new LoraSettings(
        r,
        alpha,
        targetModules,
        targetRegex,
        rankPattern,
        alphaPattern,
        rslora,
        dropout,
        layersToTransform);
  }
}
