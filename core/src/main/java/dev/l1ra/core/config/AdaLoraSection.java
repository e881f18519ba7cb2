package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.plan.AdaLoraBudget;

/**
 * AdaLoRA baseline with PEFT's semantics (shared/notes §1.2).
 *
 * @param initR starting rank of every adapter
 * @param targetR final average rank (budget = target_r × adapters)
 * @param tinit steps at full budget before pruning starts
 * @param tfinal final steps at the frozen allocation
 * @param deltaT steps between masking events
 */
public record AdaLoraSection(
    int initR,
    int targetR,
    int tinit,
    int tfinal,
    int deltaT,
    double beta1,
    double beta2,
    double orthRegWeight) {
  public AdaLoraSection {
    ConfigException.check(initR > 0, "adalora.init_r", initR, "must be > 0");
    ConfigException.check(
        targetR > 0 && targetR <= initR,
        "adalora.target_r",
        targetR,
        "must be in [1, init_r=" + initR + "]");
    ConfigException.check(deltaT > 0, "adalora.delta_t", deltaT, "must be > 0");
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      Integer initR,
      Integer targetR,
      Integer tinit,
      Integer tfinal,
      Integer deltaT,
      Double beta1,
      Double beta2,
      Double orthRegWeight) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static AdaLoraSection of(Keys k) {
    return new AdaLoraSection(
        requireNonNullElse(k.initR(), 12),
        requireNonNullElse(k.targetR(), 8),
        requireNonNullElse(k.tinit(), 0),
        requireNonNullElse(k.tfinal(), 0),
        requireNonNullElse(k.deltaT(), 1),
        requireNonNullElse(k.beta1(), 0.85),
        requireNonNullElse(k.beta2(), 0.85),
        requireNonNullElse(k.orthRegWeight(), 0.5));
  }

  /**
   * PEFT's budget schedule for adapters laid out as {@code initial} (init_r each) over a run of
   * {@code total} steps: from Σ init_r down to target_r per adapter.
   */
  public AdaLoraBudget budget(AdapterLayout initial, int total) {
    return new AdaLoraBudget(
        initial.totalRank(), targetR * initial.size(), tinit, tfinal, deltaT, total);
  }
}
