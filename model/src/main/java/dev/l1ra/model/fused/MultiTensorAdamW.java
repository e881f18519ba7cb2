package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import dev.l1ra.model.engine.EngineInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdamW over all adapter tensors in a handful of engine calls: a TorchScript module written by our
 * code ({@link TorchScriptArchive}) whose methods take the whole lists of parameters, gradients and
 * moments and apply PyTorch's multi-tensor ({@code torch._foreach_*}) operators, so one call per
 * optimizer step replaces ~16 engine calls per tensor. On a GPU the lists run as a few multi-tensor
 * kernels; on the CPU they run tensor by tensor with exactly the operations of {@code
 * AdamW.update}, so results are bit for bit those of the per-tensor reference.
 *
 * <p>The arithmetic is AdamW in PyTorch's form with a per-rank step count (see {@code
 * dev.l1ra.model.train.AdamW}), then L1RA's gate rule on the gates. Every number comes in as an
 * argument of the call (no tensor is built from a Java number), and nothing is read back except the
 * squared gradient norm. Calls run under the engine's inference guard: no autograd.
 */
public final class MultiTensorAdamW implements AutoCloseable {
  static final String CLASS_NAME = "__torch__.l1ra.MultiTensorAdamW";

  static final String SOURCE =
      String.join(
          "\n",
          "def grads_of(self, params: List[Tensor], grads: List[Tensor]) -> List[Tensor]:",
          "    if len(grads) > 0:",
          "        return grads",
          "    out: List[Tensor] = []",
          "    for p in params:",
          "        g = p.grad",
          "        if g is None or g.numel() == 0:",
          "            out.append(torch.zeros_like(p))",
          "        else:",
          "            out.append(g)",
          "    return out",
          "",
          "def sumsq(self, params: List[Tensor], grads: List[Tensor], fast: bool) -> float:",
          "    gs = self.grads_of(params, grads)",
          "    if fast:",
          "        norms = torch._foreach_norm(gs, 2)",
          "        return float(torch.sum(torch.square(torch.stack(norms))))",
          "    s = torch.sum(torch.square(gs[0]))",
          "    for i in range(1, len(gs)):",
          "        s = torch.add(s, torch.sum(torch.square(gs[i])))",
          "    return float(s)",
          "",
          "def update(self, params: List[Tensor], grads: List[Tensor], exp_avg: List[Tensor],",
          "           exp_avg_sq: List[Tensor], ages: List[Tensor], lr: float, decay: float,",
          "           coef: float, beta1: float, beta2: float, one_minus_beta1: float,",
          "           one_minus_beta2: float, log_beta1: float, log_beta2: float, eps: float) -> None:",
          "    g = torch._foreach_mul(self.grads_of(params, grads), coef)",
          "    if decay != 1.0:",
          "        torch._foreach_mul_(params, decay)",
          "    torch._foreach_mul_(exp_avg, beta1)",
          "    torch._foreach_add_(exp_avg, torch._foreach_mul(g, one_minus_beta1))",
          "    torch._foreach_mul_(exp_avg_sq, beta2)",
          "    torch._foreach_add_(exp_avg_sq,"
              + " torch._foreach_mul(torch._foreach_mul(g, g), one_minus_beta2))",
          "    torch._foreach_add_(ages, 1.0)",
          "    bc1 = torch._foreach_exp(torch._foreach_mul(ages, log_beta1))",
          "    torch._foreach_neg_(bc1)",
          "    torch._foreach_add_(bc1, 1.0)",
          "    bc2 = torch._foreach_exp(torch._foreach_mul(ages, log_beta2))",
          "    torch._foreach_neg_(bc2)",
          "    torch._foreach_add_(bc2, 1.0)",
          "    denom = torch._foreach_sqrt(exp_avg_sq)",
          "    torch._foreach_div_(denom, torch._foreach_sqrt(bc2))",
          "    torch._foreach_add_(denom, eps)",
          "    upd = torch._foreach_div(exp_avg, denom)",
          "    torch._foreach_div_(upd, bc1)",
          "    torch._foreach_mul_(upd, lr)",
          "    torch._foreach_sub_(params, upd)",
          "",
          "def update_uniform(self, params: List[Tensor], grads: List[Tensor],",
          "                   exp_avg: List[Tensor], exp_avg_sq: List[Tensor], ages: List[Tensor],",
          "                   decay: float, bc2_sqrt: float, step: float, coef: float, beta1: float,",
          "                   beta2: float, one_minus_beta1: float, one_minus_beta2: float,",
          "                   eps: float) -> None:",
          "    g = torch._foreach_mul(self.grads_of(params, grads), coef)",
          "    if decay != 1.0:",
          "        torch._foreach_mul_(params, decay)",
          "    torch._foreach_mul_(exp_avg, beta1)",
          "    torch._foreach_add_(exp_avg, torch._foreach_mul(g, one_minus_beta1))",
          "    torch._foreach_mul_(exp_avg_sq, beta2)",
          "    torch._foreach_addcmul_(exp_avg_sq, g, g, one_minus_beta2)",
          "    torch._foreach_add_(ages, 1.0)",
          "    denom = torch._foreach_sqrt(exp_avg_sq)",
          "    torch._foreach_div_(denom, bc2_sqrt)",
          "    torch._foreach_add_(denom, eps)",
          "    torch._foreach_addcdiv_(params, exp_avg, denom, step)",
          "",
          "def gate_rule(self, gates: List[Tensor], sizes: List[int], tau: float,",
          "              soft: bool) -> None:",
          "    c = torch.cat(gates)",
          "    if tau > 0.0:",
          "        inside = torch.le(torch.abs(c), tau).to(c.dtype)",
          "        above = torch.gt(c, tau).to(c.dtype)",
          "        below = torch.lt(c, -tau).to(c.dtype)",
          "        c = torch.sub(c, torch.mul(torch.sub(above, below), tau))",
          "        if soft:",
          "            c = torch.mul(c, torch.add(torch.neg(inside), 1.0))",
          "    c = torch.clamp(c, 0.0, 1.0)",
          "    torch._foreach_copy_(gates, torch.split(c, sizes))",
          "",
          "def gate_stats(self, gates: List[Tensor], threshold: float) -> Tensor:",
          "    c = torch.cat(gates)",
          "    below = torch.sum(torch.lt(c, threshold).to(c.dtype))",
          "    return torch.stack([torch.mean(c), below])",
          "",
          "def gradients(self, params: List[Tensor]) -> List[Tensor]:",
          "    return self.grads_of(params, [])",
          "",
          "def zero_grads(self, params: List[Tensor]) -> List[Tensor]:",
          "    gs: List[Tensor] = []",
          "    for p in params:",
          "        g = p.grad",
          "        if g is not None and g.numel() > 0:",
          "            gs.append(g)",
          "    if len(gs) > 0:",
          "        torch._foreach_zero_(gs)",
          "    return gs");

  /** The archive this class loads. */
  public static final TorchScriptArchive ARCHIVE = TorchScriptArchive.module(CLASS_NAME, SOURCE);

  /** AdamW's constants. */
  public record Hyper(double beta1, double beta2, double eps) {}

  private static final Logger LOG = LoggerFactory.getLogger(MultiTensorAdamW.class);
  private static final Map<Device, Optional<MultiTensorAdamW>> SHARED = new ConcurrentHashMap<>();

  private final TorchScriptModule module;

  private MultiTensorAdamW(TorchScriptModule module) {
    this.module = module;
  }

  /**
   * The kernels for {@code device}, loaded once per JVM (from the default archive cache) and kept
   * for its life; empty, after one WARN naming the cause, where the engine rejects them (callers
   * then run the per-tensor reference).
   */
  public static Optional<MultiTensorAdamW> shared(Device device) {
    return SHARED.computeIfAbsent(device, MultiTensorAdamW::tryLoad);
  }

  private static Optional<MultiTensorAdamW> tryLoad(Device device) {
    try {
      return Optional.of(load(device));
    } catch (RuntimeException | LinkageError e) {
      LOG.warn(
          "multi-tensor optimizer unavailable on {}, using the per-tensor one. Cause: {}",
          device,
          e.getMessage());
      return Optional.empty();
    }
  }

  /** Writes (or reuses) the archive in the default cache and loads it on {@code device}. */
  public static MultiTensorAdamW load(Device device) {
    return load(device, TorchScriptArchive.defaultCacheDir());
  }

  /**
   * Writes (or reuses) the archive in {@code cacheDir} and loads it on {@code device}.
   *
   * @throws IllegalStateException naming the cause when the engine rejects the module
   */
  public static MultiTensorAdamW load(Device device, Path cacheDir) {
    try {
      return new MultiTensorAdamW(TorchScriptModule.load(ARCHIVE, device, cacheDir));
    } catch (IOException | MalformedModelException | RuntimeException e) {
      throw new IllegalStateException(
          "the multi-tensor optimizer is unavailable on "
              + device
              + " (DJL "
              + EngineInfo.djlVersion()
              + ", TorchScript cache "
              + cacheDir
              + "): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Σ‖g‖² over all gradients, read back as one float32 value.
   *
   * @param grads the gradients, or an empty list for the parameters' accumulated .grad
   * @param fast one norm kernel per tensor and a sum of their squares (GPU); otherwise the exact
   *     sequence Σ sum(g²) in list order, bit-reproducible on the CPU
   */
  public double sumOfSquares(List<NDArray> params, List<NDArray> grads, boolean fast) {
    try (IValue r = module.run("sumsq", tensors(params), tensors(grads), IValue.from(fast))) {
      return r.toDouble();
    }
  }

  /** One AdamW step's learning rate, decay and gradient coefficient for a group of tensors. */
  public record Group(double lr, double decay, double coef) {}

  /**
   * One AdamW step on every parameter in place, with per-rank bias corrections: g ← coef·grad; p ←
   * p·decay (where decay ≠ 1); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; age ← age + 1; p ← p −
   * lr·m/(√v/√bc2 + ε)/bc1 with bc = 1 − β^age for each rank. Bit for bit {@code AdamW.update} on
   * the CPU. Lists are parallel (one entry per parameter).
   *
   * @param grads the gradients, or an empty list for the parameters' accumulated .grad
   */
  public void update(
      List<NDArray> params,
      List<NDArray> grads,
      List<NDArray> expAvg,
      List<NDArray> expAvgSq,
      List<NDArray> ages,
      Group g,
      Hyper h) {
    check(params, grads, expAvg, expAvgSq, ages);
    try (IValue r =
        module.run(
            "update",
            tensors(params),
            tensors(grads),
            tensors(expAvg),
            tensors(expAvgSq),
            tensors(ages),
            IValue.from(g.lr()),
            IValue.from(g.decay()),
            IValue.from(g.coef()),
            IValue.from(h.beta1()),
            IValue.from(h.beta2()),
            IValue.from(1 - h.beta1()),
            IValue.from(1 - h.beta2()),
            IValue.from(Math.log(h.beta1())),
            IValue.from(Math.log(h.beta2())),
            IValue.from(h.eps()))) {
      // returns None
    }
  }

  /**
   * The same AdamW step for parameters whose ranks all share step count {@code age} (before this
   * step): the bias corrections become numbers computed on the host, so every operation runs as a
   * multi-tensor kernel (PyTorch's foreach AdamW). Equal to {@link #update} up to float rounding.
   */
  public void updateUniform(
      List<NDArray> params,
      List<NDArray> grads,
      List<NDArray> expAvg,
      List<NDArray> expAvgSq,
      List<NDArray> ages,
      int age,
      Group g,
      Hyper h) {
    check(params, grads, expAvg, expAvgSq, ages);
    int t = age + 1;
    double bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2(), t));
    double step = -g.lr() / (1 - Math.pow(h.beta1(), t));
    try (IValue r =
        module.run(
            "update_uniform",
            tensors(params),
            tensors(grads),
            tensors(expAvg),
            tensors(expAvgSq),
            tensors(ages),
            IValue.from(g.decay()),
            IValue.from(bc2Sqrt),
            IValue.from(step),
            IValue.from(g.coef()),
            IValue.from(h.beta1()),
            IValue.from(h.beta2()),
            IValue.from(1 - h.beta1()),
            IValue.from(1 - h.beta2()),
            IValue.from(h.eps()))) {
      // returns None
    }
  }

  private static void check(
      List<NDArray> params,
      List<NDArray> grads,
      List<NDArray> expAvg,
      List<NDArray> expAvgSq,
      List<NDArray> ages) {
    int n = params.size();
    if ((!grads.isEmpty() && grads.size() != n)
        || expAvg.size() != n
        || expAvgSq.size() != n
        || ages.size() != n) {
      throw new IllegalArgumentException("optimizer lists differ in length");
    }
  }

  /**
   * L1RA's lasso step on the gates, then the clamp to [0, 1]: c ← c − τ·sgnτ(c), and with {@code
   * soft} entries with |c| ≤ τ become 0 (see {@code GateRule}).
   */
  public void gateRule(List<NDArray> gates, double tau, boolean soft) {
    if (gates.isEmpty()) {
      return;
    }
    long[] sizes = new long[gates.size()];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = gates.get(i).getShape().get(0);
    }
    try (IValue r =
        module.run(
            "gate_rule",
            tensors(gates),
            IValue.listFrom(sizes),
            IValue.from(tau),
            IValue.from(soft))) {
      // returns None
    }
  }

  /**
   * The mean of all gates and how many are below {@code threshold}, as one float32 tensor [mean,
   * count] in the gates' dtype (float32) on their device in {@code manager} (one call; the
   * operations of a concat, a comparison, a sum and a mean).
   */
  public NDArray gateStats(List<NDArray> gates, double threshold, NDManager manager) {
    try (IValue r = module.run("gate_stats", tensors(gates), IValue.from(threshold))) {
      return r.toTensor((PtNDManager) manager);
    }
  }

  /**
   * The accumulated gradient of each parameter (zeros where none was accumulated), in one call; the
   * arrays share storage with the parameters' gradients and belong to {@code manager} and the
   * current scope.
   */
  public List<NDArray> gradients(List<NDArray> params, NDManager manager) {
    try (IValue r = module.run("gradients", tensors(params))) {
      return List.of(r.toTensorArray((PtNDManager) manager));
    }
  }

  /** Sets the parameters' accumulated gradients to zero in place, in one call. */
  public void zeroGradients(List<NDArray> params) {
    if (params.isEmpty()) {
      return;
    }
    try (IValue r = module.run("zero_grads", tensors(params))) {
      // the zeroed gradients come back only to keep TorchScript from dropping the update of a
      // list built inside the method (its dead-code pass does, torch 2.7)
    }
  }

  private static IValue tensors(List<NDArray> xs) {
    List<PtNDArray> pt = new ArrayList<>(xs.size());
    for (NDArray x : xs) {
      pt.add((PtNDArray) x);
    }
    return IValue.listFrom(pt.toArray(new PtNDArray[0]));
  }

  @Override
  public void close() {
    module.close();
  }
}
