package dev.l1ra.core.plan;

import java.io.Serializable;

/**
 * AdaLoRA's budget schedule and masking rule as pure functions (PEFT {@code RankAllocator}: {@code
 * budget_schedule}, {@code mask_to_budget}; shared/notes §1.2).
 *
 * @param initBudget Σ init_r over all adapters
 * @param targetBudget target_r × number of adapters
 * @param tinit steps at the full budget before pruning starts
 * @param tfinal final steps at the frozen allocation
 * @param deltaT steps between masking events in the middle phase
 * @param totalSteps total optimizer steps
 */
public record AdaLoraBudget(
    int initBudget, int targetBudget, int tinit, int tfinal, int deltaT, int totalSteps)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public AdaLoraBudget {
    if (targetBudget > initBudget || targetBudget < 1) {
      throw new IllegalArgumentException(
          "adalora target budget "
              + targetBudget
              + " must be in [1, init budget "
              + initBudget
              + "]");
    }
    if (!(tinit < totalSteps - tfinal)) {
      throw new IllegalArgumentException(
          "adalora needs tinit < total_step - tfinal, got tinit "
              + tinit
              + ", total "
              + totalSteps
              + ", tfinal "
              + tfinal);
    }
    if (deltaT < 1) {
      throw new IllegalArgumentException("adalora delta_t must be >= 1, got " + deltaT);
    }
  }

  /** Budget at a step and whether to mask: PEFT's cubic schedule. */
  public record Step(int budget, boolean mask) {}

  public Step at(int step) {
    if (step <= tinit) {
      return new Step(initBudget, false);
    }
    if (step > totalSteps - tfinal) {
      return new Step(targetBudget, true);
    }
    double mul = 1 - (double) (step - tinit) / (totalSteps - tfinal - tinit);
    int budget = (int) ((initBudget - targetBudget) * mul * mul * mul + targetBudget);
    return new Step(budget, step % deltaT == 0);
  }
}
