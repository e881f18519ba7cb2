package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.plan.AdaLoraBudget;
import dev.l1ra.core.plan.AdaLoraMasking;
import dev.l1ra.core.plan.RankPlan;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.fused.AdaLoraKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AdaLoRA driven inside the training loop (PEFT users must call {@code update_and_allocate} by
 * hand): the orthogonality regulariser's gradient is added before each update; after it, the
 * importance |w·∇w| is smoothed (EMA β1) with its uncertainty (EMA β2), and on PEFT's cubic budget
 * schedule the triplets with the lowest scores (E score + mean row score of A + mean column score
 * of B) are masked by zeroing their singular values. In the final phase the last mask is reapplied
 * every step. Scores stay on the device; one host read per masking event.
 */
public final class AdaLoraController implements RankController {
  private final AdaLoraBudget budget;
  private final double beta1;
  private final double beta2;
  private final double orthWeight;
  private final List<L1raController.Listener> listeners;
  private final NDManager manager;
  private final Map<String, NDArray> ema = new LinkedHashMap<>();
  private final Map<String, NDArray> unc = new LinkedHashMap<>();
  private double lastOrth;
  private NDArray orthTotal;
  private boolean perTensor;
  private int orthMatrices;
  private int events;

  public AdaLoraController(
      AdaLoraBudget budget,
      double beta1,
      double beta2,
      double orthWeight,
      NDManager parent,
      List<L1raController.Listener> listeners) {
    this.budget = budget;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.orthWeight = orthWeight;
    this.manager = parent.newSubManager();
    this.listeners = List.copyOf(listeners);
  }

  /**
   * Adds the gradient of orth_reg_weight · mean over matrices of ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F (PEFT
   * adds the term to the loss): d‖M − I‖_F/dA = 2(AAᵀ − I)A/‖AAᵀ − I‖_F, and likewise for B.
   */
  @Override
  public void beforeUpdate(AdapterSet adapters, Map<String, NDArray> grads, double lossScale) {
    int matrices = 2 * adapters.all().size();
    double scale = orthWeight / matrices * lossScale;
    Optional<AdaLoraKernels> k = kernels(adapters);
    if (k.isPresent()) {
      List<NDArray> qs = new ArrayList<>();
      List<NDArray> ps = new ArrayList<>();
      List<NDArray> gqs = new ArrayList<>();
      List<NDArray> gps = new ArrayList<>();
      for (AdaLoraAdapter ada : adapters.adaLoras()) {
        List<TrainableParam> p = ada.trainable();
        qs.add(ada.a());
        ps.add(ada.b());
        gqs.add(grads.get(p.get(0).name()));
        gps.add(grads.get(p.get(1).name()));
      }
      replaceOrthTotal(k.get().orth(qs, ps, gqs, gps, scale, manager), matrices);
      return;
    }
    try (NDScope s = new NDScope()) {
      double total = 0;
      for (AdaLoraAdapter ada : adapters.adaLoras()) {
        List<TrainableParam> p = ada.trainable();
        total += addOrth(ada.a(), false, grads.get(p.get(0).name()), scale);
        total += addOrth(ada.b(), true, grads.get(p.get(1).name()), scale);
      }
      lastOrth = orthWeight * total / matrices;
    }
  }

  /** Runs every hook tensor by tensor (the reference the kernels are tested against). */
  AdaLoraController perTensor() {
    perTensor = true;
    return this;
  }

  /** The multi-tensor kernels where they load on the adapters' device. */
  private Optional<AdaLoraKernels> kernels(AdapterSet adapters) {
    return perTensor || adapters.all().isEmpty()
        ? Optional.empty()
        : AdaLoraKernels.shared(adapters.all().iterator().next().down().getDevice());
  }

  /** Keeps the step's Σ‖M − I‖ on the device; {@link #stepStats} reads it. */
  private void replaceOrthTotal(NDArray total, int matrices) {
    NDScope.unregister(total);
    if (orthTotal != null) {
      orthTotal.close();
    }
    orthTotal = total;
    orthMatrices = matrices;
  }

  /** Adds the regulariser gradient of one matrix in place; returns ‖M − I‖_F. */
  private static double addOrth(NDArray w, boolean columns, NDArray grad, double scale) {
    NDArray m = columns ? w.transpose().matMul(w) : w.matMul(w.transpose()); // [r, r]
    NDArray diff = m.sub(w.getManager().eye((int) m.getShape().get(0)));
    double norm = diff.norm().getFloat();
    if (norm > 0) {
      NDArray g = columns ? w.matMul(diff) : diff.matMul(w); // (AAᵀ−I)A or B(BᵀB−I), times 2/‖·‖
      grad.addi(g.mul((float) (2 * scale / norm)));
    }
    return norm;
  }

  @Override
  public boolean readsGradients() {
    return true;
  }

  /** PEFT's update_ipt: EMA of |w·g| and of its deviation, per element, on the device. */
  @Override
  public void observe(AdapterSet adapters, Map<String, NDArray> grads, double gradCoef) {
    Optional<AdaLoraKernels> k = kernels(adapters);
    if (k.isPresent()) {
      List<NDArray> p = new ArrayList<>();
      List<NDArray> g = new ArrayList<>();
      List<NDArray> avg = new ArrayList<>();
      List<NDArray> u = new ArrayList<>();
      for (TrainableParam t : adapters.trainable()) {
        p.add(t.array());
        g.add(grads.get(t.name()));
        avg.add(ema.computeIfAbsent(t.name(), n -> keep(t.array().zerosLike())));
        u.add(unc.computeIfAbsent(t.name(), n -> keep(t.array().zerosLike())));
      }
      k.get().observe(p, g, avg, u, gradCoef, beta1, beta2);
      return;
    }
    try (NDScope s = new NDScope()) {
      for (TrainableParam p : adapters.trainable()) {
        NDArray ipt = p.array().mul(grads.get(p.name()).mul((float) gradCoef)).abs();
        NDArray avg = ema.computeIfAbsent(p.name(), n -> keep(ipt.zerosLike()));
        NDArray u = unc.computeIfAbsent(p.name(), n -> keep(ipt.zerosLike()));
        avg.muli(beta1).addi(ipt.mul(1 - beta1));
        u.muli(beta2).addi(ipt.sub(avg).abs().mul(1 - beta2));
      }
    }
  }

  private NDArray keep(NDArray x) {
    NDScope.unregister(x);
    x.attach(manager);
    return x;
  }

  @Override
  public void afterStep(
      int step, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix) {
    AdaLoraBudget.Step b = budget.at(step);
    if (!b.mask() || ema.isEmpty()) {
      return;
    }
    List<AdaLoraAdapter> list = adapters.adaLoras();
    List<double[]> scores = scores(list);
    List<AdaLoraMasking.TripletScores> triplets = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      triplets.add(new AdaLoraMasking.TripletScores(list.get(i).id(), scores.get(i)));
    }
    AdaLoraMasking.Mask mask = AdaLoraMasking.mask(triplets, b.budget());
    List<RankPlan.Change> changes = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      AdaLoraAdapter a = list.get(i);
      boolean[] before = a.mask();
      boolean[] keep = mask.keep(a.id());
      a.applyMask(keep);
      changes.add(change(a.spec(), before, keep, scores.get(i)));
    }
    if (changes.stream().anyMatch(RankPlan.Change::changed)
        || step == budget.totalSteps() - budget.tfinal() + 1) {
      events++;
      RankPlan plan = new RankPlan(changes, 0, 0, false, 0);
      AdapterLayout after = activeLayout(list);
      listeners.forEach(l -> l.onAllocation(step, plan, after));
    }
  }

  /** Triplet scores per adapter: score(E) + mean row score of A + mean column score of B. */
  private List<double[]> scores(List<AdaLoraAdapter> list) {
    List<double[]> out = new ArrayList<>();
    try (NDScope s = new NDScope()) {
      for (AdaLoraAdapter a : list) {
        List<TrainableParam> p = a.trainable();
        NDArray sa = score(p.get(0).name()).mean(new int[] {1}); // [r]
        NDArray sb = score(p.get(1).name()).mean(new int[] {0}); // [r]
        NDArray se = score(p.get(2).name()); // [r]
        float[] v = se.add(sa).add(sb).toFloatArray();
        double[] d = new double[v.length];
        for (int j = 0; j < v.length; j++) {
          d[j] = v[j];
        }
        out.add(d);
      }
    }
    return out;
  }

  private NDArray score(String name) {
    return ema.get(name).mul(unc.get(name));
  }

  private static RankPlan.Change change(
      AdapterSpec s, boolean[] before, boolean[] after, double[] scores) {
    List<Integer> kept = new ArrayList<>();
    int added = 0;
    int old = 0;
    for (int j = 0; j < before.length; j++) {
      old += before[j] ? 1 : 0;
      if (before[j] && after[j]) {
        kept.add(j);
      } else if (!before[j] && after[j]) {
        added++;
      }
    }
    double min = Arrays.stream(scores).min().orElse(0);
    double mean = Arrays.stream(scores).average().orElse(0);
    return new RankPlan.Change(
        s.id(), old, kept.stream().mapToInt(Integer::intValue).toArray(), added, min, mean);
  }

  private static AdapterLayout activeLayout(List<AdaLoraAdapter> list) {
    return new AdapterLayout(
        list.stream().map(a -> a.spec().withRank(Math.max(1, a.activeRank()))).toList());
  }

  @Override
  public List<String> statNames() {
    return List.of("orth_reg", "active_rank");
  }

  @Override
  public double[] stepStats(AdapterSet adapters) {
    if (orthTotal != null) {
      lastOrth = orthWeight * orthTotal.getDouble() / orthMatrices;
      orthTotal.close();
      orthTotal = null;
    }
    int active = adapters.all().stream().mapToInt(Adapter::effectiveRank).sum();
    return new double[] {lastOrth, active};
  }

  @Override
  public int events() {
    return events;
  }

  @Override
  public Map<String, Object> state() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("events", events);
    return m;
  }

  @Override
  public void restore(Map<String, Object> state) {
    events = ((Number) state.getOrDefault("events", 0)).intValue();
  }

  @Override
  public Map<String, NDArray> tensors() {
    Map<String, NDArray> out = new LinkedHashMap<>();
    ema.forEach((k, v) -> out.put("ema/" + k, v));
    unc.forEach((k, v) -> out.put("unc/" + k, v));
    return out;
  }

  @Override
  public void restoreTensors(Map<String, NDArray> t) {
    t.forEach(
        (k, v) -> {
          NDArray x = keep(v);
          if (k.startsWith("ema/")) {
            ema.put(k.substring(4), x);
          } else if (k.startsWith("unc/")) {
            unc.put(k.substring(4), x);
          }
        });
  }
}
