package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.core.plan.L1raPlanner;

/**
 * L1RA dynamic rank allocation (reference: raul-singh/L1RA; see shared/notes §1).
 *
 * @param lambda L1 strength λ on the gates
 * @param etaC constant learning rate of the gates (no warm-up, no decay)
 * @param rankUpdateRatio reallocate every ratio·T steps (T = total steps)
 * @param rankUpdateSteps or every N steps (wins over the ratio when set); 0: not set (left out of
 *     the written config; set explicitly it must be > 0)
 * @param pruneThreshold a rank is pruned when its gate c < lr_AB·λ + threshold
 * @param afterWarmup no reallocation before warm-up ends
 * @param softThreshold exact soft-thresholding of the gates (entries within τ of 0 become 0)
 *     instead of the reference's dead zone
 * @param budget rank (conserve Σr, the reference) or parameters (conserve Σ r·(d_in+d_out))
 * @param rescaleAlpha after each event a resized adapter's scaling follows its new rank (alpha/r,
 *     or alpha/√r with rsLoRA) instead of staying alpha/r0 (the reference)
 */
public record L1raSection(
    double lambda,
    double etaC,
    double rankUpdateRatio,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) int rankUpdateSteps,
    double pruneThreshold,
    boolean afterWarmup,
    boolean softThreshold,
    boolean reassign,
    boolean excludePruned,
    L1raPlanner.Budget budget,
    boolean rescaleAlpha) {
  public L1raSection {
    ConfigException.check(lambda >= 0, "l1ra.lambda", lambda, "must be >= 0");
    ConfigException.check(etaC > 0, "l1ra.eta_c", etaC, "must be > 0");
    ConfigException.check(
        rankUpdateRatio > 0 && rankUpdateRatio <= 1,
        "l1ra.rank_update_ratio",
        rankUpdateRatio,
        "must be in (0, 1]");
    ConfigException.check(
        rankUpdateSteps >= 0, "l1ra.rank_update_steps", rankUpdateSteps, "must be > 0");
    ConfigException.check(
        pruneThreshold >= 0, "l1ra.prune_threshold", pruneThreshold, "must be >= 0");
  }

  /** Steps between allocation events for a run of {@code total} steps. */
  public int interval(int total) {
    return rankUpdateSteps > 0
        ? rankUpdateSteps
        : Math.max(1, (int) Math.round(rankUpdateRatio * total));
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      Double lambda,
      Double etaC,
      Double rankUpdateRatio,
      Integer rankUpdateSteps,
      Double pruneThreshold,
      Boolean afterWarmup,
      Boolean softThreshold,
      Boolean reassign,
      Boolean excludePruned,
      L1raPlanner.Budget budget,
      Boolean rescaleAlpha) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static L1raSection of(Keys k) {
    return new L1raSection(
        requireNonNullElse(k.lambda(), 1e-3),
        requireNonNullElse(k.etaC(), 1e-2),
        requireNonNullElse(k.rankUpdateRatio(), 0.1),
        ConfigException.zeroIfAbsent("l1ra.rank_update_steps", k.rankUpdateSteps(), "must be > 0"),
        requireNonNullElse(k.pruneThreshold(), 1e-6),
        requireNonNullElse(k.afterWarmup(), false),
        requireNonNullElse(k.softThreshold(), false),
        requireNonNullElse(k.reassign(), true),
        requireNonNullElse(k.excludePruned(), true),
        requireNonNullElse(k.budget(), L1raPlanner.Budget.RANK),
        requireNonNullElse(k.rescaleAlpha(), false));
  }

  /**
   * The planner's settings for a run whose A/B learning rate is {@code lrAb} (the prune threshold
   * is lr_AB·λ + prune_threshold).
   */
  public L1raPlanner.Settings plannerSettings(double lrAb) {
    return new L1raPlanner.Settings(lrAb, lambda, pruneThreshold, reassign, excludePruned, budget);
  }

  /** The decoupled L1 step on the gates. */
  public GateRule gateRule() {
    return new GateRule(etaC, lambda, softThreshold);
  }
}
