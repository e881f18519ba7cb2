package dev.l1ra.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.ParamGroup;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.fused.MultiTensorAdamW;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One optimizer step over the adapters: unscale, global-norm clip, AdamW per parameter group, the
 * L1RA gate rule. A step whose gradient norm is NaN/Inf changes nothing and reports itself skipped.
 * The squared gradient norm is the one value read back to the host.
 *
 * <p>The step runs as two engine calls over all tensors at once ({@link MultiTensorAdamW}: the
 * norm, then the update with the gate rule), bit for bit the per-tensor reference ({@link
 * AdamW#update}) on the CPU; where the engine rejects those kernels, the per-tensor reference runs
 * instead.
 */
public final class TrainOptimizer implements AutoCloseable {

  /** Learning rates and decay of this step. */
  public record Hyper(double matrixLr, double weightDecay, double maxGradNorm, GateRule gates) {}

  /**
   * What a step did.
   *
   * @param gradCoef what the raw gradients were multiplied by (unscale and clip)
   */
  public record Outcome(double gradNorm, boolean skipped, double gradCoef) {}

  private final AdamW adam;
  private final Device device;
  private final Optional<MultiTensorAdamW> fused;
  private boolean uniformBiasCorrection;

  /** An optimizer for adapters on {@code manager}'s device, with the multi-tensor kernels. */
  public TrainOptimizer(AdamSettings settings, NDManager manager) {
    this(settings, manager, MultiTensorAdamW.shared(manager.getDevice()));
  }

  /**
   * @param fused the multi-tensor kernels, or empty for the per-tensor reference
   */
  public TrainOptimizer(
      AdamSettings settings, NDManager manager, Optional<MultiTensorAdamW> fused) {
    this.adam = new AdamW(settings, manager);
    this.device = manager.getDevice();
    this.fused = fused;
    this.uniformBiasCorrection = device.isGpu();
  }

  /**
   * Whether tensors whose ranks share one step count take per-tensor bias corrections computed on
   * the host (all multi-tensor kernels; float rounding differs from the reference), as on GPUs by
   * default; otherwise every tensor takes the per-rank path, bit for bit the reference (the CPU
   * default, which keeps CPU runs reproducible to the bit).
   */
  public TrainOptimizer uniformBiasCorrection(boolean on) {
    this.uniformBiasCorrection = on;
    return this;
  }

  public AdamW adam() {
    return adam;
  }

  /** Whether steps run as multi-tensor engine calls (else tensor by tensor). */
  public boolean multiTensor() {
    return fused.isPresent();
  }

  /**
   * Applies one update from the gradients given (as accumulated: times the loss scale).
   *
   * @param grads gradient per parameter name, or null for the parameters' accumulated .grad
   */
  public Outcome step(AdapterSet adapters, Map<String, NDArray> grads, double lossScale, Hyper hp) {
    List<TrainableParam> params = adapters.trainable();
    List<NDArray> g = new ArrayList<>(grads == null ? 0 : params.size());
    if (grads != null) {
      params.forEach(p -> g.add(grads.get(p.name())));
    }
    double norm = Math.sqrt(sumOfSquares(params, g)) / lossScale;
    if (!Double.isFinite(norm)) {
      return new Outcome(norm, true, 0);
    }
    double coef = 1.0 / lossScale;
    if (hp.maxGradNorm() > 0 && norm > hp.maxGradNorm()) {
      coef *= hp.maxGradNorm() / (norm + 1e-6);
    }
    if (fused.isPresent()) {
      fusedUpdate(fused.get(), params, g, coef, hp);
    } else {
      referenceUpdate(params, g.isEmpty() ? gradients(params) : g, coef, hp);
    }
    return new Outcome(norm, false, coef);
  }

  /** Σ‖g‖²: exact summation order on the CPU, one norm kernel per tensor on a GPU. */
  private double sumOfSquares(List<TrainableParam> params, List<NDArray> g) {
    if (fused.isPresent()) {
      return fused.get().sumOfSquares(arrays(params), g, device.isGpu());
    }
    NDArray sum = null;
    for (NDArray x : g.isEmpty() ? gradients(params) : g) {
      NDArray sq = x.square().sum();
      sum = sum == null ? sq : sum.add(sq);
    }
    return sum == null ? 0 : sum.getFloat();
  }

  /**
   * The update as one multi-tensor call per group of tensors that share a learning rate, a decay
   * and (on the uniform path) a step count, then the gate rule on all gates.
   */
  private void fusedUpdate(
      MultiTensorAdamW k, List<TrainableParam> params, List<NDArray> g, double coef, Hyper hp) {
    AdamSettings st = adam.settings();
    MultiTensorAdamW.Hyper h = new MultiTensorAdamW.Hyper(st.beta1(), st.beta2(), st.eps());
    Map<Key, Lists> calls = new LinkedHashMap<>();
    List<NDArray> gates = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      TrainableParam t = params.get(i);
      AdamW.Moments s = adam.momentsFor(t);
      AdamW.GroupStep gs = groupStep(t.group(), hp);
      int age = uniformBiasCorrection ? adam.uniformAge(t.name()) : -1;
      calls
          .computeIfAbsent(new Key(gs, age), x -> new Lists())
          .add(t, g.isEmpty() ? null : g.get(i), s);
      if (t.group() == ParamGroup.GATE) {
        gates.add(t.array());
      }
    }
    for (Map.Entry<Key, Lists> c : calls.entrySet()) {
      Lists l = c.getValue();
      AdamW.GroupStep gs = c.getKey().step();
      MultiTensorAdamW.Group group = new MultiTensorAdamW.Group(gs.lr(), decay(gs), coef);
      if (c.getKey().age() >= 0) {
        k.updateUniform(l.params, l.grads, l.m, l.v, l.ages, c.getKey().age(), group, h);
      } else {
        k.update(l.params, l.grads, l.m, l.v, l.ages, group, h);
      }
    }
    adam.stepped(params.stream().map(TrainableParam::name).toList());
    if (hp.gates() != null) {
      GateRule r = hp.gates();
      k.gateRule(gates, r.etaC() * r.lambda(), r.softThreshold());
    }
  }

  /** Tensors updated in one call: the same group step and step count (−1: per-rank ages). */
  private record Key(AdamW.GroupStep step, int age) {}

  /** Parallel lists of one multi-tensor call (grads empty: the parameters' own .grad). */
  private static final class Lists {
    final List<NDArray> params = new ArrayList<>();
    final List<NDArray> grads = new ArrayList<>();
    final List<NDArray> m = new ArrayList<>();
    final List<NDArray> v = new ArrayList<>();
    final List<NDArray> ages = new ArrayList<>();

    void add(TrainableParam t, NDArray g, AdamW.Moments s) {
      params.add(t.array());
      if (g != null) {
        grads.add(g);
      }
      m.add(s.m());
      v.add(s.v());
      ages.add(s.age());
    }
  }

  /** 1 − lr·weight_decay, or exactly 1 without decay (then no multiplication happens). */
  private static double decay(AdamW.GroupStep s) {
    return s.weightDecay() == 0 ? 1 : 1 - s.lr() * s.weightDecay();
  }

  private static List<NDArray> arrays(List<TrainableParam> params) {
    List<NDArray> out = new ArrayList<>(params.size());
    params.forEach(p -> out.add(p.array()));
    return out;
  }

  private static List<NDArray> gradients(List<TrainableParam> params) {
    List<NDArray> out = new ArrayList<>(params.size());
    params.forEach(p -> out.add(p.array().getGradient()));
    return out;
  }

  /** The per-tensor reference: AdamW tensor by tensor, the gate rule after each gate. */
  private void referenceUpdate(
      List<TrainableParam> params, List<NDArray> g, double coef, Hyper hp) {
    for (int i = 0; i < params.size(); i++) {
      TrainableParam p = params.get(i);
      adam.update(p, g.get(i).mul((float) coef), groupStep(p.group(), hp));
      if (p.group() == ParamGroup.GATE && hp.gates() != null) {
        gateRule(p.array(), hp.gates());
      }
    }
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
    c.set(new NDIndex("..."), clamped);
  }

  /**
   * The gradients accumulated in the parameters' .grad (zeros where none), keyed by name, in one
   * engine call where the multi-tensor kernels load; for rank controllers that read gradients. The
   * arrays share storage with the gradients and belong to the current scope.
   */
  public static Map<String, NDArray> accumulated(AdapterSet adapters) {
    List<TrainableParam> params = adapters.trainable();
    Map<String, NDArray> out = new LinkedHashMap<>();
    if (params.isEmpty()) {
      return out;
    }
    NDManager m = params.get(0).array().getManager();
    Optional<MultiTensorAdamW> k = MultiTensorAdamW.shared(m.getDevice());
    List<NDArray> g = k.isPresent() ? k.get().gradients(arrays(params), m) : gradients(params);
    for (int i = 0; i < params.size(); i++) {
      out.put(params.get(i).name(), g.get(i));
    }
    return out;
  }

  /** Clears the parameters' accumulated gradients (after the update and the controller). */
  public static void zeroGrad(AdapterSet adapters) {
    List<TrainableParam> params = adapters.trainable();
    if (params.isEmpty()) {
      return;
    }
    Optional<MultiTensorAdamW> k = MultiTensorAdamW.shared(params.get(0).array().getDevice());
    if (k.isPresent()) {
      k.get().zeroGradients(arrays(params));
    } else {
      params.forEach(p -> Ops.zeroGrad(p.array()));
    }
  }

  @Override
  public void close() {
    adam.close();
  }
}
