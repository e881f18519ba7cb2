package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.lora.PatternKeys;
import dev.l1ra.core.plan.RankStrategy;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The adapters a run starts with: PEFT matching of target_modules, the static rank strategy, then
 * explicit rank_pattern entries (which win over the strategy).
 */
final class InitialLayout {
  private InitialLayout() {}

  static AdapterLayout of(RunConfig cfg, ModelConfig model) {
    LoraSettings settings = cfg.lora().settings();
    if (cfg.usesAdaLora()) { // AdaLoRA starts every adapter at init_r and prunes from there
      settings =
          new LoraSettings(
              cfg.adalora().initR(),
              settings.alpha(),
              settings.targetModules(),
              false,
              java.util.Map.of(),
              java.util.Map.of(),
              false,
              settings.dropout(),
              java.util.List.of());
      return AdapterLayout.resolve(model, settings);
    }
    AdapterLayout resolved = AdapterLayout.resolve(model, settings);
    RankStrategy strategy = cfg.lora().strategy();
    if (strategy == RankStrategy.UNIFORM) {
      return resolved;
    }
    Map<ModuleId, Integer> ranks = new LinkedHashMap<>();
    for (ModuleId m : resolved.modules()) {
      boolean explicit = PatternKeys.patternKey(settings.rankPattern(), m.hfName()).isPresent();
      if (!explicit) {
        ranks.put(
            m,
            strategy.rank(
                m, model.numLayers(), cfg.lora().r(), cfg.lora().rMin(), cfg.lora().rMax()));
      }
    }
    return resolved.withRanks(ranks);
  }
}
