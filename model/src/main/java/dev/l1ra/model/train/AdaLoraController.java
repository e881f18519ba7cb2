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
import java.util.function.Function;

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
  private Boolean groupedOrth; // null: batched on GPUs, matrix by matrix elsewhere
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
      boolean grouped =
          groupedOrth != null
              ? groupedOrth
              : adapters.all().iterator().next().down().getDevice().isGpu(); // GPU default
      NDArray total =
          grouped
              ? orthGrouped(k.get(), qs, ps, gqs, gps, scale)
              : k.get().orth(qs, ps, gqs, gps, scale, manager);
      replaceOrthTotal(total, matrices);
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

  /** One matrix the regulariser acts on: Q (QQᵀ) or P (PᵀP, {@code columns}). */
  private record Matrix(NDArray w, NDArray grad, boolean columns) {}

  /** The regulariser with one batched product per shape: Qs and Ps grouped by their shapes. */
  private NDArray orthGrouped(
      AdaLoraKernels k,
      List<NDArray> qs,
      List<NDArray> ps,
      List<NDArray> gqs,
      List<NDArray> gps,
      double scale) {
    List<Matrix> all = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      all.add(new Matrix(qs.get(i), gqs.get(i), false));
      all.add(new Matrix(ps.get(i), gps.get(i), true));
    }
    List<List<Matrix>> groups = groupBy(all, m -> (m.columns() ? "P" : "Q") + m.w().getShape());
    List<NDArray> ws = new ArrayList<>();
    List<NDArray> gs = new ArrayList<>();
    boolean[] columns = new boolean[groups.size()];
    for (int j = 0; j < groups.size(); j++) {
      columns[j] = groups.get(j).get(0).columns();
      for (Matrix m : groups.get(j)) {
        ws.add(m.w());
        gs.add(m.grad());
      }
    }
    return k.orthGrouped(ws, gs, sizes(groups), columns, scale, manager);
  }

  /** {@code items} grouped by {@code key}: groups in first-seen order, items in their order. */
  private static <T> List<List<T>> groupBy(List<T> items, Function<T, String> key) {
    Map<String, List<T>> groups = new LinkedHashMap<>();
    for (T x : items) {
      groups.computeIfAbsent(key.apply(x), g -> new ArrayList<>()).add(x);
    }
    return new ArrayList<>(groups.values());
  }

  private static long[] sizes(List<? extends List<?>> groups) {
    return groups.stream().mapToLong(List::size).toArray();
  }

  /**
   * Sets whether the regulariser runs as batched products per shape (the default on GPUs: a few
   * dozen engine calls instead of a dozen per matrix) or matrix by matrix (the CPU default, equal
   * to the per-tensor reference bit for bit).
   */
  AdaLoraController groupedOrth(boolean on) {
    groupedOrth = on;
    return this;
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
    List<double[]> scores = scores(list, kernels(adapters));
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
      if (!(allTrue(before) && allTrue(keep))) {
        a.applyMask(keep); // zeroes E where masked; an all-kept mask leaves E as it is
      }
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

  private static boolean allTrue(boolean[] xs) {
    for (boolean x : xs) {
      if (!x) {
        return false;
      }
    }
    return true;
  }

  /**
   * Triplet scores per adapter: score(E) + mean row score of A + mean column score of B; with the
   * kernels one engine call and one host read for all adapters.
   */
  private List<double[]> scores(List<AdaLoraAdapter> list, Optional<AdaLoraKernels> k) {
    if (k.isPresent()) {
      // adapters grouped by shape (one stacked mean per group), results mapped back by index
      List<Integer> indices = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        indices.add(i);
      }
      List<List<Integer>> groups =
          groupBy(indices, i -> list.get(i).a().getShape() + "|" + list.get(i).b().getShape());
      List<List<NDArray>> in = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        in.add(new ArrayList<>());
      }
      for (List<Integer> members : groups) {
        for (int i : members) {
          List<TrainableParam> p = list.get(i).trainable();
          for (int t = 0; t < 3; t++) {
            in.get(2 * t).add(ema.get(p.get(t).name()));
            in.get(2 * t + 1).add(unc.get(p.get(t).name()));
          }
        }
      }
      float[] all;
      try (NDArray cat =
          k.get()
              .scores(
                  in.get(0),
                  in.get(1),
                  in.get(2),
                  in.get(3),
                  in.get(4),
                  in.get(5),
                  sizes(groups),
                  manager)) {
        all = cat.toFloatArray();
      }
      double[][] byAdapter = new double[list.size()][];
      int at = 0;
      for (List<Integer> members : groups) {
        for (int i : members) {
          int r = (int) list.get(i).e().size();
          byAdapter[i] = doubles(all, at, r);
          at += r;
        }
      }
      return Arrays.asList(byAdapter);
    }
    List<double[]> out = new ArrayList<>();
    try (NDScope s = new NDScope()) {
      for (AdaLoraAdapter a : list) {
        List<TrainableParam> p = a.trainable();
        NDArray sa = score(p.get(0).name()).mean(new int[] {1}); // [r]
        NDArray sb = score(p.get(1).name()).mean(new int[] {0}); // [r]
        NDArray se = score(p.get(2).name()); // [r]
        float[] v = se.add(sa).add(sb).toFloatArray();
        out.add(doubles(v, 0, v.length));
      }
    }
    return out;
  }

  private static double[] doubles(float[] v, int from, int n) {
    double[] d = new double[n];
    for (int j = 0; j < n; j++) {
      d[j] = v[from + j];
    }
    return d;
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
