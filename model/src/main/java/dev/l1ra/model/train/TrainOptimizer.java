package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.ParamGroup;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import java.util.List;
import java.util.Map;

/**
 * One optimizer step over the adapters: unscale, global-norm clip, AdamW per parameter group, the
 * L1RA gate rule, and zeroing the gradients. A step whose gradient norm is NaN/Inf changes nothing
 * and reports itself skipped. The gradient norm is the one value read back to the host.
 */
public final class TrainOptimizer implements AutoCloseable {

  /** L1RA's decoupled L1 on the gates (shared/notes §1.2): τ = η_c·λ after each Adam step. */
  public record GateRule(double etaC, double lambda, boolean softThreshold) {}

  /** Learning rates and decay of this step. */
  public record Hyper(double matrixLr, double weightDecay, double maxGradNorm, GateRule gates) {}

  /**
   * What a step did.
   *
   * @param gradCoef what the raw gradients were multiplied by (unscale and clip)
   */
  public record Outcome(double gradNorm, boolean skipped, double gradCoef) {}

  private final AdamW adam;

  public TrainOptimizer(AdamW.Settings settings, NDManager manager) {
    this.adam = new AdamW(settings, manager);
  }

  public AdamW adam() {
    return adam;
  }

  /**
   * Applies one update from the gradients now held by the adapters' parameters (or those given).
   *
   * @param grads gradient per parameter name, as accumulated (times the loss scale)
   */
  public Outcome step(AdapterSet adapters, Map<String, NDArray> grads, double lossScale, Hyper hp) {
    List<TrainableParam> params = adapters.trainable();
    double norm = globalNorm(params, grads) / lossScale;
    if (!Double.isFinite(norm)) {
      return new Outcome(norm, true, 0);
    }
    double coef = 1.0 / lossScale;
    if (hp.maxGradNorm() > 0 && norm > hp.maxGradNorm()) {
      coef *= hp.maxGradNorm() / (norm + 1e-6);
    }
    for (TrainableParam p : params) {
      NDArray g = grads.get(p.name()).mul((float) coef);
      adam.update(p, g, groupStep(p.group(), hp));
      if (p.group() == ParamGroup.GATE && hp.gates() != null) {
        gateRule(p.array(), hp.gates());
      }
    }
    return new Outcome(norm, false, coef);
  }

  /** Gradients currently accumulated in the parameters' .grad, keyed by name. */
  public static Map<String, NDArray> accumulated(AdapterSet adapters) {
    Map<String, NDArray> out = new java.util.LinkedHashMap<>();
    for (TrainableParam p : adapters.trainable()) {
      out.put(p.name(), p.array().getGradient());
    }
    return out;
  }

  private static AdamW.GroupStep groupStep(ParamGroup g, Hyper hp) {
    return switch (g) {
      case MATRIX -> new AdamW.GroupStep(hp.matrixLr(), hp.weightDecay());
      case GATE -> new AdamW.GroupStep(hp.gates() == null ? hp.matrixLr() : hp.gates().etaC(), 0);
      case SINGULAR -> new AdamW.GroupStep(hp.matrixLr(), 0);
    };
  }

  /**
   * The reference's lasso step, then the clamp to [0, 1] the reference applies before every
   * forward: c ← c − τ·sgnτ(c) (entries with |c| ≤ τ stay, or become 0 with soft thresholding).
   */
  static void gateRule(NDArray c, GateRule rule) {
    double tau = rule.etaC() * rule.lambda();
    if (tau > 0) {
      NDArray inside = c.abs().lte(tau).toType(DataType.FLOAT32, false); // before the shrink
      NDArray above = c.gt(tau).toType(DataType.FLOAT32, false);
      NDArray below = c.lt(-tau).toType(DataType.FLOAT32, false);
      c.subi(above.sub(below).mul((float) tau));
      if (rule.softThreshold()) {
        c.muli(inside.neg().add(1)); // exact soft-thresholding: |c| <= tau becomes 0
      }
    }
    NDArray clamped = c.clip(0, 1);
    c.set(new ai.djl.ndarray.index.NDIndex("..."), clamped);
  }

  /** √Σ‖g‖² over all parameters, read back once. */
  static double globalNorm(List<TrainableParam> params, Map<String, NDArray> grads) {
    NDArray sum = null;
    for (TrainableParam p : params) {
      NDArray sq = grads.get(p.name()).square().sum();
      sum = sum == null ? sq : sum.add(sq);
    }
    return sum == null ? 0 : Math.sqrt(sum.getFloat());
  }

  /** Clears the accumulated gradients (after the update and the controller have used them). */
  public static void zeroGrad(AdapterSet adapters) {
    adapters.trainable().forEach(p -> Ops.zeroGrad(p.array()));
  }

  @Override
  public void close() {
    adam.close();
  }
}
