package dev.l1ra.core.config;

/**
 * L1RA dynamic rank allocation (reference: raul-singh/L1RA; see shared/notes §1).
 *
 * @param lambda L1 strength λ on the gates
 * @param etaC constant learning rate of the gates (no warm-up, no decay)
 * @param rankUpdateRatio reallocate every ratio·T steps (T = total steps)
 * @param rankUpdateSteps or every N steps (wins over the ratio when set)
 * @param pruneThreshold a rank is pruned when its gate c < lr_AB·λ + threshold
 * @param afterWarmup no reallocation before warm-up ends
 * @param softThreshold exact soft-thresholding of the gates (entries within τ of 0 become 0)
 *     instead of the reference's dead zone
 * @param budget rank (conserve Σr, the reference) or parameters (conserve Σ r·(d_in+d_out))
 * @param rescaleAlpha after each event a resized adapter's scaling follows its new rank (alpha/r,
 *     or alpha/√r with rsLoRA) instead of staying alpha/r0 (the reference)
 */
public record L1raSection(
    Double lambda,
    Double etaC,
    Double rankUpdateRatio,
    Integer rankUpdateSteps,
    Double pruneThreshold,
    Boolean afterWarmup,
    Boolean softThreshold,
    Boolean reassign,
    Boolean excludePruned,
    String budget,
    Boolean rescaleAlpha) {
  public L1raSection {
    lambda = lambda == null ? 1e-3 : lambda;
    etaC = etaC == null ? 1e-2 : etaC;
    rankUpdateRatio = rankUpdateRatio == null ? 0.1 : rankUpdateRatio;
    pruneThreshold = pruneThreshold == null ? 1e-6 : pruneThreshold;
    afterWarmup = afterWarmup != null && afterWarmup;
    softThreshold = softThreshold != null && softThreshold;
    reassign = reassign == null || reassign;
    excludePruned = excludePruned == null || excludePruned;
    budget = budget == null ? "rank" : budget;
    rescaleAlpha = rescaleAlpha != null && rescaleAlpha;
    ConfigException.check(lambda >= 0, "l1ra.lambda", lambda, "must be >= 0");
    ConfigException.check(etaC > 0, "l1ra.eta_c", etaC, "must be > 0");
    ConfigException.check(
        rankUpdateRatio > 0 && rankUpdateRatio <= 1,
        "l1ra.rank_update_ratio",
        rankUpdateRatio,
        "must be in (0, 1]");
    ConfigException.check(
        rankUpdateSteps == null || rankUpdateSteps > 0,
        "l1ra.rank_update_steps",
        rankUpdateSteps,
        "must be > 0");
    ConfigException.check(
        pruneThreshold >= 0, "l1ra.prune_threshold", pruneThreshold, "must be >= 0");
    ConfigException.check(
        java.util.List.of("rank", "parameters").contains(budget),
        "l1ra.budget",
        budget,
        "use rank or parameters");
  }

  /** Steps between allocation events for a run of {@code total} steps. */
  public int interval(int total) {
    return rankUpdateSteps != null
        ? rankUpdateSteps
        : Math.max(1, (int) Math.round(rankUpdateRatio * total));
  }
}
