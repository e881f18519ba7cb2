package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.plan.GateSnapshot;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.core.plan.RankPlan;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.LoraAdapter;
import dev.l1ra.model.fused.MultiTensorAdamW;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L1RA's schedule of allocation events: every {@code interval} optimizer steps (not at the last
 * step; optionally not during warm-up) read the gates, let the pure planner decide, and apply the
 * plan to the adapters and the optimizer state. Runs where the adapters live (the Spark driver);
 * executors receive the new ranks with the next step's broadcast.
 */
public final class L1raController implements RankController {
  private static final Logger LOG = LoggerFactory.getLogger(L1raController.class);

  /** Receives each allocation event (ranks.csv, plots, report). */
  public interface Listener {
    void onAllocation(int step, RankPlan plan, AdapterLayout after);
  }

  private final L1raPlanner.Settings planner;
  private final int interval;
  private final int warmupSteps;
  private final long seed;
  private final AdapterLayout initial;
  private final boolean rescaleAlpha;
  private final List<Listener> listeners;
  private int events;
  private int ranksMoved;

  /**
   * @param warmupSteps no event at or before this step (0: events from the first interval)
   * @param initial the ranks at creation (r0 of each adapter: the scale of new A rows)
   * @param rescaleAlpha resized adapters' scaling follows their rank (see {@link RankSurgery})
   */
  public L1raController(
      L1raPlanner.Settings planner,
      int interval,
      int warmupSteps,
      long seed,
      AdapterLayout initial,
      boolean rescaleAlpha,
      List<Listener> listeners) {
    if (interval < 1) {
      throw new IllegalArgumentException("l1ra interval must be >= 1 step, got " + interval);
    }
    this.planner = planner;
    this.interval = interval;
    this.warmupSteps = warmupSteps;
    this.seed = seed;
    this.initial = initial;
    this.rescaleAlpha = rescaleAlpha;
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public void afterStep(
      int step, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix) {
    if (step % interval != 0 || step >= totalSteps || step <= warmupSteps) {
      return;
    }
    allocate(step, adapters, adam);
  }

  /**
   * Rounds of local steps: one event at the round's end when any step of the round was due one
   * (after the warm-up, before the last step); the gates are the workers' averaged gates.
   */
  @Override
  public void afterRound(
      int from, int to, int totalSteps, AdapterSet adapters, AdamW adam, double lrMatrix) {
    if (dueInRound(from, to, totalSteps, interval, warmupSteps)) {
      allocate(to, adapters, adam);
    }
  }

  /**
   * Whether the round of 0-based steps [from, to) holds an event: a multiple of {@code interval}
   * among the 1-based steps from+1..to that is after the warm-up, in a round that is not the last.
   */
  static boolean dueInRound(int from, int to, int totalSteps, int interval, int warmupSteps) {
    int lastDue = to / interval * interval;
    return lastDue > from && lastDue > warmupSteps && to < totalSteps;
  }

  /** One allocation event at 1-based {@code step}: plan from the gates, then resize. */
  private void allocate(int step, AdapterSet adapters, AdamW adam) {
    RankPlan plan = L1raPlanner.plan(snapshots(adapters), planner);
    try {
      RankSurgery.apply(plan, adapters, adam, seed, step, initial, rescaleAlpha);
    } catch (RankSurgery.InvalidPlanException e) {
      LOG.warn("allocation event at step {} skipped, ranks unchanged: {}", step, e.getMessage());
      return;
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "L1RA allocation event at step "
              + step
              + " failed ("
              + e
              + "); the adapters are as before the event, and the run stops here without a"
              + " checkpoint of this step: its newest checkpoint is intact and the same command"
              + " resumes from it. If it fails again, report it with the log",
          e);
    }
    events++;
    ranksMoved += plan.reassigned();
    LOG.info(
        "L1RA event {} at step {}: pruned {} rank(s) in {} adapter(s), reassigned {}{}; Σr {}",
        events,
        step,
        plan.freed(),
        plan.changes().stream().filter(c -> c.pruned() > 0).count(),
        plan.reassigned(),
        plan.fallback() ? " (fallback: all adapters)" : "",
        plan.totalRankAfter());
    AdapterLayout after = adapters.layout();
    listeners.forEach(l -> l.onAllocation(step, plan, after));
  }

  /** The gates of every adapter, read to the host once per event. */
  static List<GateSnapshot> snapshots(AdapterSet adapters) {
    List<GateSnapshot> out = new ArrayList<>();
    for (LoraAdapter l : adapters.loras()) {
      if (!l.gated()) {
        throw new IllegalStateException("L1RA needs gated adapters; " + l.id() + " has no gate");
      }
      float[] c = l.gate().toFloatArray();
      double[] g = new double[c.length];
      for (int i = 0; i < c.length; i++) {
        g[i] = c[i];
      }
      int in = l.spec().in();
      int outF = l.spec().out();
      out.add(new GateSnapshot(l.id(), g, in + outF + 1, Math.min(in, outF)));
    }
    return out;
  }

  @Override
  public List<String> statNames() {
    return List.of("gate_mean", "gates_below");
  }

  /** Mean gate and gates below the prune threshold, read back together once per step. */
  @Override
  public double[] stepStats(AdapterSet adapters) {
    try (NDScope scope = new NDScope()) {
      NDList gates = new NDList();
      adapters.all().forEach(a -> gates.add(a.gate()));
      Optional<MultiTensorAdamW> k =
          gates.isEmpty() ? Optional.empty() : MultiTensorAdamW.shared(gates.get(0).getDevice());
      if (k.isPresent()) {
        float[] v =
            k.get().gateStats(gates, planner.threshold(), gates.get(0).getManager()).toFloatArray();
        return new double[] {v[0], v[1]};
      }
      NDArray all = NDArrays.concat(gates, 0);
      NDArray below = all.lt(planner.threshold()).toType(DataType.FLOAT32, false).sum();
      float[] v = NDArrays.stack(new NDList(all.mean(), below)).toFloatArray();
      return new double[] {v[0], v[1]};
    }
  }

  @Override
  public int events() {
    return events;
  }

  @Override
  public int ranksMoved() {
    return ranksMoved;
  }

  @Override
  public Map<String, Object> state() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("events", events);
    m.put("ranks_moved", ranksMoved);
    return m;
  }

  @Override
  public void restore(Map<String, Object> state) {
    events = ((Number) state.getOrDefault("events", 0)).intValue();
    ranksMoved = ((Number) state.getOrDefault("ranks_moved", 0)).intValue();
  }
}
