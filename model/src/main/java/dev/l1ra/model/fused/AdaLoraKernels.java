package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdaLoRA's per-step work over all adapters in one engine call each (a TorchScript module our code
 * writes): the orthogonality regulariser's gradient (PEFT adds orth_reg_weight · mean ‖M − I‖_F to
 * the loss) and the importance averages PEFT's {@code update_ipt} keeps. The operations are those
 * of {@code AdaLoraController}'s per-tensor path in the same order, so CPU results are the same bit
 * for bit; no value is read back inside (the regulariser's value stays on the device until the
 * step's statistics are logged).
 */
public final class AdaLoraKernels {
  private static final Logger LOG = LoggerFactory.getLogger(AdaLoraKernels.class);
  private static final Map<Device, Optional<AdaLoraKernels>> SHARED = new ConcurrentHashMap<>();

  static final String SOURCE =
      String.join(
          "\n",
          "def orth(self, qs: List[Tensor], ps: List[Tensor], gqs: List[Tensor],",
          "         gps: List[Tensor], scale: float) -> Tensor:",
          "    total = torch.zeros_like(qs[0][0, 0]).double()",
          "    for i in range(len(qs)):",
          "        total = torch.add(total, self.orth_one(qs[i], gqs[i], False, scale))",
          "        total = torch.add(total, self.orth_one(ps[i], gps[i], True, scale))",
          "    return total",
          "",
          "def orth_one(self, w: Tensor, grad: Tensor, columns: bool, scale: float) -> Tensor:",
          "    if columns:",
          "        m = torch.matmul(torch.permute(w, [1, 0]), w)",
          "    else:",
          "        m = torch.matmul(w, torch.permute(w, [1, 0]))",
          "    diff = torch.sub(m, torch.eye(m.size(0), dtype=m.dtype, device=m.device))",
          "    dims: List[int] = []",
          "    norm = torch.norm(diff, 2, dims, False)",
          "    if columns:",
          "        g = torch.matmul(w, diff)",
          "    else:",
          "        g = torch.matmul(diff, w)",
          "    coef = torch.div(2.0 * scale, norm.double()).float()",
          "    grad.add_(torch.where(torch.gt(norm, 0.0), torch.mul(g, coef), torch.zeros_like(g)))",
          "    return norm.double()",
          "",
          "def orth_grouped(self, ws: List[Tensor], grads: List[Tensor], sizes: List[int],",
          "                 columns: List[bool], scale: float) -> Tensor:",
          "    total = torch.zeros_like(ws[0][0, 0]).double()",
          "    start = 0",
          "    deltas: List[Tensor] = []",
          "    for j in range(len(sizes)):",
          "        end = start + sizes[j]",
          "        w = torch.stack(ws[start:end], 0)",
          "        if columns[j]:",
          "            m = torch.bmm(torch.permute(w, [0, 2, 1]), w)",
          "        else:",
          "            m = torch.bmm(w, torch.permute(w, [0, 2, 1]))",
          "        diff = torch.sub(m, torch.eye(m.size(1), dtype=m.dtype, device=m.device))",
          "        norm = torch.norm(diff, 2, [1, 2], False)",
          "        if columns[j]:",
          "            g = torch.bmm(w, diff)",
          "        else:",
          "            g = torch.bmm(diff, w)",
          "        coef = torch.div(2.0 * scale, norm.double()).float()",
          "        coef = torch.where(torch.gt(norm, 0.0), coef, torch.zeros_like(coef))",
          "        g = torch.mul(g, torch.reshape(coef, [-1, 1, 1]))",
          "        deltas.extend(torch.unbind(g, 0))",
          "        total = torch.add(total, torch.sum(norm.double()))",
          "        start = end",
          "    # on the argument list itself: an in-place update of a list built here is dropped",
          "    torch._foreach_add_(grads, deltas)",
          "    return total",
          "",
          "def scores(self, ea: List[Tensor], ua: List[Tensor], eb: List[Tensor],",
          "           ub: List[Tensor], ee: List[Tensor], ue: List[Tensor],",
          "           sizes: List[int]) -> Tensor:",
          "    pa = torch._foreach_mul(ea, ua)",
          "    pb = torch._foreach_mul(eb, ub)",
          "    pe = torch._foreach_mul(ee, ue)",
          "    out: List[Tensor] = []",
          "    start = 0",
          "    for n in sizes:",
          "        end = start + n",
          "        sa = torch.mean(torch.stack(pa[start:end], 0), [2], False)",
          "        sb = torch.mean(torch.stack(pb[start:end], 0), [1], False)",
          "        se = torch.stack(pe[start:end], 0)",
          "        out.append(torch.reshape(torch.add(torch.add(se, sa), sb), [-1]))",
          "        start = end",
          "    return torch.cat(out, 0)",
          "",
          "def observe(self, params: List[Tensor], grads: List[Tensor], ema: List[Tensor],",
          "            unc: List[Tensor], coef: float, beta1: float, beta2: float,",
          "            one_minus_beta1: float, one_minus_beta2: float) -> None:",
          "    ipt = torch._foreach_abs(torch._foreach_mul(params, torch._foreach_mul(grads, coef)))",
          "    torch._foreach_mul_(ema, beta1)",
          "    torch._foreach_add_(ema, torch._foreach_mul(ipt, one_minus_beta1))",
          "    torch._foreach_mul_(unc, beta2)",
          "    torch._foreach_add_(unc, torch._foreach_mul("
              + "torch._foreach_abs(torch._foreach_sub(ipt, ema)), one_minus_beta2))");

  static final TorchScriptArchive ARCHIVE =
      TorchScriptArchive.module("__torch__.l1ra.AdaLoraKernels", SOURCE);

  private final TorchScriptModule module;

  private AdaLoraKernels(TorchScriptModule module) {
    this.module = module;
  }

  /** The kernels for {@code device}, loaded once per JVM; empty (after a WARN) if they fail. */
  public static Optional<AdaLoraKernels> shared(Device device) {
    return SHARED.computeIfAbsent(device, AdaLoraKernels::tryLoad);
  }

  private static Optional<AdaLoraKernels> tryLoad(Device device) {
    try {
      return Optional.of(
          new AdaLoraKernels(
              TorchScriptModule.load(ARCHIVE, device, TorchScriptArchive.defaultCacheDir())));
    } catch (IOException | MalformedModelException | RuntimeException | LinkageError e) {
      LOG.warn(
          "AdaLoRA kernels unavailable on {}, using per-tensor calls. Cause: {}",
          device,
          e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Adds the regulariser's gradient to every Q's and P's gradient in place, scaled by {@code scale}
   * (orth_reg_weight / matrices · loss scale): 2·scale·(QQᵀ − I)Q/‖QQᵀ − I‖_F, and likewise P(PᵀP −
   * I).
   *
   * @return Σ ‖M − I‖_F over all matrices, a float64 scalar on the device in {@code manager}
   */
  public NDArray orth(
      List<NDArray> qs,
      List<NDArray> ps,
      List<NDArray> gqs,
      List<NDArray> gps,
      double scale,
      NDManager manager) {
    return tensor(
        manager, "orth", tensors(qs), tensors(ps), tensors(gqs), tensors(gps), IValue.from(scale));
  }

  /**
   * The same gradient as {@link #orth} with one batched product per group of equally shaped
   * matrices instead of a dozen calls per matrix: {@code ws} and {@code grads} are ordered by
   * group, {@code sizes[j]} matrices each; {@code columns[j]} says whether group j is regularised
   * as PᵀP (else QQᵀ). Equal to the per-matrix form up to the rounding of the batched products.
   *
   * @return Σ ‖M − I‖_F over all matrices, a float64 scalar on the device in {@code manager}
   */
  public NDArray orthGrouped(
      List<NDArray> ws,
      List<NDArray> grads,
      long[] sizes,
      boolean[] columns,
      double scale,
      NDManager manager) {
    return tensor(
        manager,
        "orth_grouped",
        tensors(ws),
        tensors(grads),
        IValue.listFrom(sizes),
        IValue.listFrom(columns),
        IValue.from(scale));
  }

  /**
   * Triplet scores of every adapter, concatenated: per adapter the E score plus the mean row score
   * of A plus the mean column score of B (each score the product of its two averages). The lists
   * are ordered by groups of adapters with equal shapes, {@code sizes[j]} adapters each; the
   * products run as multi-tensor operations and the means once per group.
   */
  public NDArray scores(
      List<NDArray> emaA,
      List<NDArray> uncA,
      List<NDArray> emaB,
      List<NDArray> uncB,
      List<NDArray> emaE,
      List<NDArray> uncE,
      long[] sizes,
      NDManager manager) {
    return tensor(
        manager,
        "scores",
        tensors(emaA),
        tensors(uncA),
        tensors(emaB),
        tensors(uncB),
        tensors(emaE),
        tensors(uncE),
        IValue.listFrom(sizes));
  }

  /** PEFT's update_ipt on every parameter: EMAs of |w·g·coef| and of its deviation, in place. */
  public void observe(
      List<NDArray> params,
      List<NDArray> grads,
      List<NDArray> ema,
      List<NDArray> unc,
      double coef,
      double beta1,
      double beta2) {
    try (IValue r =
        module.run(
            "observe",
            tensors(params),
            tensors(grads),
            tensors(ema),
            tensors(unc),
            IValue.from(coef),
            IValue.from(beta1),
            IValue.from(beta2),
            IValue.from(1 - beta1),
            IValue.from(1 - beta2))) {
      // returns None
    }
  }

  /** Runs {@code method}, whose result is one tensor, and hands it to {@code manager}. */
  private NDArray tensor(NDManager manager, String method, IValue... args) {
    try (IValue r = module.run(method, args)) {
      return r.toTensor((PtNDManager) manager);
    }
  }

  private static IValue tensors(List<NDArray> xs) {
    List<PtNDArray> pt = new ArrayList<>(xs.size());
    for (NDArray x : xs) {
      pt.add((PtNDArray) x);
    }
    return IValue.listFrom(pt.toArray(new PtNDArray[0]));
  }
}
