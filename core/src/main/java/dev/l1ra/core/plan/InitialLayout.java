package dev.l1ra.core.plan;

import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.lora.PatternKeys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The adapters a run starts with: PEFT matching of target_modules, the static rank strategy, then
 * explicit rank_pattern entries (which win over the strategy). A pure function of the settings;
 * {@code RunConfig.initialLayout} applies it to a run's config.
 */
public final class InitialLayout {
  private InitialLayout() {}

  /**
   * LoRA or L1RA: the strategy's rank for every matched module without an explicit rank_pattern
   * entry.
   *
   * @param r the base rank the strategy scales; rMin and rMax clamp it
   */
  public static AdapterLayout of(
      ModelConfig model, LoraSettings settings, RankStrategy strategy, int r, int rMin, int rMax) {
    AdapterLayout resolved = AdapterLayout.resolve(model, settings);
    if (strategy == RankStrategy.UNIFORM) {
      return resolved;
    }
    Map<ModuleId, Integer> ranks = new LinkedHashMap<>();
    for (ModuleId m : resolved.modules()) {
      boolean explicit = PatternKeys.patternKey(settings.rankPattern(), m.hfName()).isPresent();
      if (!explicit) {
        ranks.put(m, strategy.rank(m, model.numLayers(), r, rMin, rMax));
      }
    }
    return resolved.withRanks(ranks);
  }

  /**
   * AdaLoRA starts every matched module at init_r and prunes from there (no pattern, no rsLoRA).
   */
  public static AdapterLayout adaLora(ModelConfig model, LoraSettings settings, int initR) {
    LoraSettings start =
        new LoraSettings(
            initR,
            settings.alpha(),
            settings.targetModules(),
            false,
            Map.of(),
            Map.of(),
            false,
            settings.dropout(),
            List.of());
    return AdapterLayout.resolve(model, start);
  }
}
