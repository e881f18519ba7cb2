package dev.l1ra.core.config;

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
    Integer initR,
    Integer targetR,
    Integer tinit,
    Integer tfinal,
    Integer deltaT,
    Double beta1,
    Double beta2,
    Double orthRegWeight) {
  public AdaLoraSection {
    initR = initR == null ? 12 : initR;
    targetR = targetR == null ? 8 : targetR;
    tinit = tinit == null ? 0 : tinit;
    tfinal = tfinal == null ? 0 : tfinal;
    deltaT = deltaT == null ? 1 : deltaT;
    beta1 = beta1 == null ? 0.85 : beta1;
    beta2 = beta2 == null ? 0.85 : beta2;
    orthRegWeight = orthRegWeight == null ? 0.5 : orthRegWeight;
    ConfigException.check(initR > 0, "adalora.init_r", initR, "must be > 0");
    ConfigException.check(
        targetR > 0 && targetR <= initR,
        "adalora.target_r",
        targetR,
        "must be in [1, init_r=" + initR + "]");
    ConfigException.check(deltaT > 0, "adalora.delta_t", deltaT, "must be > 0");
  }
}
