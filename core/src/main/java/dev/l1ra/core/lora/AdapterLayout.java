package dev.l1ra.core.lora;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModuleId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The adapters of a model, in layer then projection order: resolves {@link LoraSettings} against a
 * {@link ModelConfig} with PEFT's matching rules. A target, rank_pattern or alpha_pattern key that
 * matches no module is an error (PEFT would silently ignore it).
 */
public final class AdapterLayout {
  private final Map<ModuleId, AdapterSpec> specs;

  public AdapterLayout(Collection<AdapterSpec> specs) {
    Map<ModuleId, AdapterSpec> m = new TreeMap<>();
    for (AdapterSpec s : specs) {
      if (m.put(s.id(), s) != null) {
        throw new IllegalArgumentException("two adapters for module " + s.id());
      }
    }
    if (m.isEmpty()) {
      throw new IllegalArgumentException("an adapter layout needs at least one module");
    }
    this.specs = Collections.unmodifiableMap(m);
  }

  /** Resolves which modules get an adapter and with what rank and alpha. */
  public static AdapterLayout resolve(ModelConfig model, LoraSettings lora) {
    Set<String> unusedTargets = new LinkedHashSet<>(lora.targetModules());
    Set<String> unusedRanks = new LinkedHashSet<>(lora.rankPattern().keySet());
    Set<String> unusedAlphas = new LinkedHashSet<>(lora.alphaPattern().keySet());
    List<AdapterSpec> out = new ArrayList<>();
    for (int layer = 0; layer < model.numLayers(); layer++) {
      if (!lora.layersToTransform().isEmpty() && !lora.layersToTransform().contains(layer)) {
        continue;
      }
      for (LinearKind kind : LinearKind.values()) {
        ModuleId id = new ModuleId(layer, kind);
        String name = id.hfName();
        Optional<String> target = matchTarget(lora, name);
        if (target.isEmpty()) {
          continue;
        }
        unusedTargets.remove(target.get());
        int rank = lora.r();
        double alpha = lora.alpha();
        Optional<String> rk = PatternKeys.patternKey(lora.rankPattern(), name);
        if (rk.isPresent()) {
          rank = lora.rankPattern().get(rk.get());
          unusedRanks.remove(rk.get());
        }
        Optional<String> ak = PatternKeys.patternKey(lora.alphaPattern(), name);
        if (ak.isPresent()) {
          alpha = lora.alphaPattern().get(ak.get());
          unusedAlphas.remove(ak.get());
        }
        out.add(
            new AdapterSpec(
                id,
                rank,
                alpha,
                kind.inFeatures(model),
                kind.outFeatures(model),
                lora.useRslora()));
      }
    }
    failIfUnused("target_modules", unusedTargets, model);
    failIfUnused("rank_pattern", unusedRanks, model);
    failIfUnused("alpha_pattern", unusedAlphas, model);
    for (int layer : lora.layersToTransform()) {
      if (layer < 0 || layer >= model.numLayers()) {
        throw new IllegalArgumentException(
            "lora layers_to_transform names layer "
                + layer
                + " but the model has "
                + model.numLayers()
                + " layers (0.."
                + (model.numLayers() - 1)
                + ")");
      }
    }
    return new AdapterLayout(out);
  }

  private static Optional<String> matchTarget(LoraSettings lora, String name) {
    for (String t : lora.targetModules()) {
      boolean hit =
          t.equals(LoraSettings.ALL_LINEAR)
              || (lora.targetRegex()
                  ? PatternKeys.regexMatch(t, name)
                  : PatternKeys.suffixMatch(t, name));
      if (hit) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  private static void failIfUnused(String key, Set<String> unused, ModelConfig model) {
    if (unused.isEmpty()) {
      return;
    }
    throw new IllegalArgumentException(
        "lora "
            + key
            + " key(s) "
            + unused.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", "))
            + " match no adaptable module; known modules: "
            + LinearKind.allHfNames()
            + " in layers 0.."
            + (model.numLayers() - 1)
            + " (e.g. model.layers.0.self_attn.q_proj; a key matches a name suffix at a dot)");
  }

  /** All adapters in layer, then projection order. */
  public List<AdapterSpec> specs() {
    return List.copyOf(specs.values());
  }

  public Set<ModuleId> modules() {
    return specs.keySet();
  }

  public Optional<AdapterSpec> find(ModuleId id) {
    return Optional.ofNullable(specs.get(id));
  }

  public AdapterSpec get(ModuleId id) {
    AdapterSpec s = specs.get(id);
    if (s == null) {
      throw new IllegalArgumentException("no adapter on module " + id);
    }
    return s;
  }

  public int size() {
    return specs.size();
  }

  /** Σ rank over all adapters: the budget that L1RA conserves. */
  public int totalRank() {
    return specs.values().stream().mapToInt(AdapterSpec::rank).sum();
  }

  /** Trainable LoRA parameters Σ r·(in+out). */
  public long parameters() {
    return specs.values().stream().mapToLong(AdapterSpec::parameters).sum();
  }

  /** Distinct projection kinds that carry adapters, in projection order. */
  public List<LinearKind> kinds() {
    return specs.keySet().stream().map(ModuleId::kind).distinct().sorted().toList();
  }

  /** A copy with new ranks for some modules (alpha and scaling rule kept). */
  public AdapterLayout withRanks(Map<ModuleId, Integer> ranks) {
    Map<ModuleId, AdapterSpec> m = new LinkedHashMap<>(specs);
    ranks.forEach((id, r) -> m.put(id, get(id).withRank(r)));
    return new AdapterLayout(m.values());
  }
}
