package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.data.DataOrder;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop, read top to bottom: for each step, compute the global batch's gradients, apply
 * the optimizer, let the rank controller reallocate, log, evaluate and checkpoint. All state that a
 * resumed run needs is in the adapters, the optimizer and a few scalars here; everything else is a
 * function of (seed, step).
 */
public final class Trainer {
  private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
  private static final String LAST_LOSS = "last_train_loss"; // checkpoint extra: the final loss

  /** Prefix of the round source's tensors among the controller tensors of a checkpoint. */
  private static final String OUTER = "rounds/";

  /**
   * Loop settings.
   *
   * @param lr A/B learning rate at a 0-based step (warm-up and decay included)
   * @param checkpointDir where checkpoints go (null: none)
   * @param keepCheckpoints how many of the newest checkpoints to keep
   */
  public record Settings(
      int totalSteps,
      int globalBatch,
      long seed,
      IntToDoubleFunction lr,
      double weightDecay,
      double maxGradNorm,
      GateRule gates,
      int maxBadSteps,
      int logEvery,
      int evalEvery,
      int checkpointEvery,
      Path checkpointDir,
      int keepCheckpoints) {}

  /** How the run ended. */
  public record Summary(
      int steps, double finalLoss, Evaluator.Result finalEval, double seconds, int skippedSteps) {}

  /** The run stopped because too many steps in a row had a NaN/Inf loss or gradient. */
  public static final class DivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DivergedException(String message) {
      super(message);
    }
  }

  private final Settings settings;
  private final AdapterSet adapters;
  private final TrainOptimizer optimizer;
  private final GradientSource source;
  private final Evaluator evaluator;
  private final RankController controller;
  private final List<TrainListener> listeners;
  private final DataOrder order;
  private final RoundSource rounds;
  private LossScaler scaler;
  private int badSteps;
  private int nextStep;
  private int skipped;
  private long tokens;
  private double secondsBefore; // training seconds of the run before this process (restored)
  private double seconds; // training seconds up to the last step, this process's included
  private int segmentStart; // the first step this process runs
  private Map<String, String> fingerprint;
  private double lastLoss = Double.NaN;
  private Evaluator.Result lastEval;
  private int lastEvalStep = -1;

  /** A trainer that runs one step at a time, with gradients from {@code source}. */
  public Trainer(
      Settings settings,
      AdapterSet adapters,
      TrainOptimizer optimizer,
      GradientSource source,
      Evaluator evaluator,
      RankController controller,
      LossScaler scaler,
      List<TrainListener> listeners) {
    this(settings, adapters, optimizer, source, null, evaluator, controller, scaler, listeners);
  }

  /**
   * A trainer that runs rounds of local steps from {@code rounds} (the optimizer's state is the
   * driver's copy that rounds start from and end with).
   */
  public static Trainer inRounds(
      Settings settings,
      AdapterSet adapters,
      TrainOptimizer optimizer,
      RoundSource rounds,
      Evaluator evaluator,
      RankController controller,
      LossScaler scaler,
      List<TrainListener> listeners) {
    return new Trainer(
        settings, adapters, optimizer, null, rounds, evaluator, controller, scaler, listeners);
  }

  private Trainer(
      Settings settings,
      AdapterSet adapters,
      TrainOptimizer optimizer,
      GradientSource source,
      RoundSource rounds,
      Evaluator evaluator,
      RankController controller,
      LossScaler scaler,
      List<TrainListener> listeners) {
    this.settings = settings;
    this.adapters = adapters;
    this.optimizer = optimizer;
    this.source = source;
    this.rounds = rounds;
    this.evaluator = evaluator;
    this.controller =
        Objects.requireNonNull(controller, "controller (RankController.NONE for none)");
    this.scaler = scaler;
    this.listeners = List.copyOf(listeners);
    int size = source != null ? source.size() : rounds.size();
    this.order = new DataOrder(settings.seed(), size, settings.globalBatch());
  }

  /**
   * Restores the state of a checkpoint (adapters and moments are restored by the caller).
   *
   * @param controllerTensors the rank controller's and the round source's tensors ({@link
   *     Checkpoint#readTensors})
   */
  public void restore(Checkpoint.State s, Map<String, NDArray> controllerTensors) {
    Map<String, NDArray> own = new LinkedHashMap<>();
    Map<String, NDArray> outer = new LinkedHashMap<>();
    controllerTensors.forEach(
        (k, v) -> (k.startsWith(OUTER) ? outer : own).put(k.replaceFirst("^" + OUTER, ""), v));
    controller.restoreTensors(own);
    if (rounds != null) {
      rounds.restoreTensors(outer);
    }
    restore(s);
  }

  /**
   * Restores the scalar state of a checkpoint (adapters and moments are restored by the caller).
   */
  public void restore(Checkpoint.State s) {
    nextStep = s.step();
    scaler =
        new LossScaler(
            s.lossScale(), s.lossScaleGoodSteps(), scaler.growthInterval(), s.lossScaling());
    badSteps = s.badSteps();
    tokens = s.tokens();
    secondsBefore = s.seconds();
    seconds = s.seconds();
    segmentStart = s.step();
    if (s.extra().get(LAST_LOSS) instanceof Number n) {
      lastLoss = n.doubleValue(); // a finished run resumed for its outputs keeps its final loss
    }
    if (s.extra().get("controller") instanceof Map<?, ?> m) {
      @SuppressWarnings("unchecked")
      Map<String, Object> cs = (Map<String, Object>) m;
      controller.restore(cs);
    }
  }

  /**
   * What the run is and a resumed run may not change ({@code RunFingerprint}), stored in every
   * checkpoint this trainer writes.
   */
  public void fingerprint(Map<String, String> f) {
    fingerprint = Map.copyOf(f);
  }

  /** The step a {@link #run} continues from: 0, or the restored checkpoint's. */
  public int nextStep() {
    return nextStep;
  }

  /** Runs steps {@code start} .. totalSteps−1 (0-based). */
  public Summary run(int start) {
    long t0 = System.nanoTime();
    listeners.forEach(l -> l.onStart(start, settings.totalSteps()));
    int step = start;
    while (step < settings.totalSteps()) {
      int end = rounds == null ? step + 1 : rounds.roundEnd(step, settings.totalSteps());
      List<TrainListener.StepRecord> done =
          rounds == null ? List.of(trainStep(step, t0)) : trainRound(step, end, t0);
      maybeReallocate(step, end);
      done.forEach(this::log);
      maybeEvaluate(step, end);
      maybeCheckpoint(step, end);
      step = end;
    }
    if (lastEvalStep != settings.totalSteps()) {
      evaluate(settings.totalSteps());
    }
    Summary s =
        new Summary(
            settings.totalSteps(), lastLoss, lastEval, (System.nanoTime() - t0) / 1e9, skipped);
    listeners.forEach(l -> l.onFinish(s));
    return s;
  }

  private TrainListener.StepRecord trainStep(int step, long t0) {
    long s0 = System.nanoTime();
    double lr = settings.lr().applyAsDouble(step);
    try (NDScope scope = new NDScope()) {
      GradientSource.StepGradients g =
          source.compute(step, order.batch(step), adapters, scaler.scale(), stepSeed(step));
      Map<String, NDArray> grads = gradients(g);
      controller.beforeUpdate(adapters, grads, scaler.scale());
      TrainOptimizer.Outcome o = optimizer.step(adapters, grads, scaler.scale(), hyper(lr));
      if (!o.skipped()) {
        controller.observe(adapters, grads, o.gradCoef());
      }
      if (g.inParameters()) {
        TrainOptimizer.zeroGrad(adapters);
      }
      boolean ok = !o.skipped() && Double.isFinite(g.nllSum());
      handleBadStep(step, ok, g.loss(), o.gradNorm());
      scaler = scaler.next(!o.skipped());
      tokens += g.inputTokens();
      if (ok) {
        lastLoss = g.loss();
      }
      double secs = (System.nanoTime() - s0) / 1e9;
      return new TrainListener.StepRecord(
          step + 1,
          settings.totalSteps(),
          g.loss(),
          lr,
          o.gradNorm(),
          !ok,
          g.inputTokens(),
          tokens,
          secs,
          secondsBefore + (System.nanoTime() - t0) / 1e9,
          scaler.scale(),
          controller.stepStats(adapters));
    }
  }

  /**
   * Steps [step, end) as one round on the workers; the driver's adapters and optimizer hold the
   * averaged state afterwards. The controller's statistics are read once, for the round's last step
   * (the steps before it have none).
   */
  private List<TrainListener.StepRecord> trainRound(int step, int end, long t0) {
    long s0 = System.nanoTime();
    int n = end - step;
    double[] lrs = new double[n];
    long[] seeds = new long[n];
    for (int h = 0; h < n; h++) {
      lrs[h] = settings.lr().applyAsDouble(step + h);
      seeds[h] = stepSeed(step + h);
    }
    RoundSource.Plan plan =
        new RoundSource.Plan(
            step,
            lrs,
            seeds,
            settings.weightDecay(),
            settings.maxGradNorm(),
            settings.gates(),
            scaler);
    List<RoundSource.StepOutcome> out = rounds.run(plan, adapters, optimizer.adam());
    double[] stats = controller.stepStats(adapters);
    double secs = (System.nanoTime() - s0) / 1e9 / n;
    List<TrainListener.StepRecord> records = new ArrayList<>(n);
    for (int h = 0; h < n; h++) {
      RoundSource.StepOutcome o = out.get(h);
      boolean ok = o.skippedWorkers() == 0 && Double.isFinite(o.nllSum());
      handleBadStep(step + h, ok, o.loss(), o.gradNorm());
      double scale = scaler.scale();
      scaler = scaler.next(o.skippedWorkers() == 0);
      tokens += o.inputTokens();
      if (ok) {
        lastLoss = o.loss();
      }
      double elapsed = secondsBefore + (System.nanoTime() - t0) / 1e9 - secs * (n - 1 - h);
      records.add(
          new TrainListener.StepRecord(
              step + h + 1,
              settings.totalSteps(),
              o.loss(),
              lrs[h],
              o.gradNorm(),
              !ok,
              o.inputTokens(),
              tokens,
              secs,
              elapsed,
              scale,
              h == n - 1 ? stats : null));
    }
    return records;
  }

  /**
   * The step's gradients by name, or null when they are the parameters' own .grad and nothing on
   * the host needs them (the optimizer then reads them inside its engine calls).
   */
  private Map<String, NDArray> gradients(GradientSource.StepGradients g) {
    if (g.grads() != null || !controller.readsGradients()) {
      return g.grads();
    }
    return TrainOptimizer.accumulated(adapters);
  }

  private TrainOptimizer.Hyper hyper(double lr) {
    return new TrainOptimizer.Hyper(
        lr, settings.weightDecay(), settings.maxGradNorm(), settings.gates());
  }

  /** A skipped fp16 overflow is normal while the loss scale settles; NaN losses are not. */
  private void handleBadStep(int step, boolean ok, double loss, double gradNorm) {
    if (ok) {
      badSteps = 0;
      return;
    }
    skipped++;
    boolean overflowOnly =
        scaler.enabled() && Double.isFinite(loss) && scaler.scale() > LossScaler.MIN_SCALE;
    LOG.warn(
        "step {}: {} (loss {}, grad norm {}); the update was skipped{}",
        step + 1,
        overflowOnly ? "fp16 gradient overflow" : "non-finite loss or gradient",
        loss,
        gradNorm,
        overflowOnly ? ", loss scale " + scaler.scale() + " -> " + scaler.scale() / 2 : "");
    if (overflowOnly) {
      return;
    }
    if (++badSteps >= settings.maxBadSteps()) {
      Path saved = checkpoint(step);
      throw new DivergedException(
          badSteps
              + " steps in a row had a NaN/Inf loss or gradient (last at step "
              + (step + 1)
              + "); "
              + (saved == null ? "" : "the last good state is saved in " + saved + "; ")
              + "lower train.lr, enable clipping (train.max_grad_norm) or use fp32, then resume");
    }
  }

  /** After steps [step, end): the controller may reallocate ranks (L1RA: at most once). */
  private void maybeReallocate(int step, int end) {
    int events = controller.events();
    controller.afterRound(
        step,
        end,
        settings.totalSteps(),
        adapters,
        optimizer.adam(),
        settings.lr().applyAsDouble(end - 1));
    if (rounds != null && controller.events() != events) {
      rounds.ranksChanged();
    }
  }

  private void log(TrainListener.StepRecord r) {
    seconds = r.elapsedSeconds();
    listeners.forEach(l -> l.onStep(r));
    if (r.step() % settings.logEvery() == 0 || r.step() == r.totalSteps()) {
      double eta =
          etaSeconds(
              r.step() - segmentStart,
              r.elapsedSeconds() - secondsBefore,
              r.totalSteps() - r.step());
      LOG.info(
          String.format(
              "step %d/%d loss %.4f lr %.3g |g| %.3g %.0f tok/s ETA %s",
              r.step(),
              r.totalSteps(),
              r.loss(),
              r.lr(),
              r.gradNorm(),
              r.tokensPerSecond(),
              duration(eta)));
    }
  }

  /** Evaluates after steps [step, end) when an evaluation fell due among them. */
  private void maybeEvaluate(int step, int end) {
    if (dueWithin(settings.evalEvery(), step, end)) {
      evaluate(end);
    }
  }

  /** Whether a multiple of {@code every} (> 0) lies in (step, end]. */
  static boolean dueWithin(int every, int step, int end) {
    return every > 0 && end / every > step / every;
  }

  private void evaluate(int done) {
    if (evaluator == null) {
      return;
    }
    lastEval = evaluator.evaluate(adapters);
    lastEvalStep = done;
    LOG.info(
        String.format(
            "eval at step %d: loss %.4f perplexity %.3f (%d tokens)",
            done, lastEval.loss(), lastEval.perplexity(), lastEval.tokens()));
    listeners.forEach(l -> l.onEval(done, lastEval));
  }

  /**
   * The time left at this process's rate: steps it ran over the seconds it took (steps before a
   * resume ran in another process, at another time).
   */
  static double etaSeconds(int stepsHere, double secondsHere, int stepsLeft) {
    return stepsHere <= 0 ? 0 : secondsHere / stepsHere * stepsLeft;
  }

  /**
   * Checkpoints after steps [step, end) when one fell due among them, at the end, and when a
   * listener asks to stop (then stops).
   */
  private void maybeCheckpoint(int step, int end) {
    boolean due = dueWithin(settings.checkpointEvery(), step, end);
    String stop = stopRequested();
    Path saved = null;
    if (due || end == settings.totalSteps() || stop != null) {
      saved = checkpoint(end);
    }
    if (stop != null && end < settings.totalSteps()) {
      throw new StoppedException(stop, end, settings.totalSteps(), saved);
    }
  }

  private String stopRequested() {
    for (TrainListener l : listeners) {
      String why = l.stopRequested();
      if (why != null) {
        return why;
      }
    }
    return null;
  }

  /** Writes the state to run from step {@code next}; returns the folder (null without a dir). */
  private Path checkpoint(int next) {
    if (settings.checkpointDir() == null) {
      return null;
    }
    Path dir = Checkpoint.folder(settings.checkpointDir(), next);
    listeners.forEach(l -> l.beforeCheckpoint(next));
    Checkpoint.save(dir, adapters, optimizer.adam(), state(next), checkpointTensors());
    try {
      Checkpoint.prune(settings.checkpointDir(), settings.keepCheckpoints());
    } catch (UncheckedIOException e) {
      LOG.warn("could not prune old checkpoints in {}: {}", settings.checkpointDir(), e.toString());
    }
    return dir;
  }

  /** The controller's tensors, and the round source's under their prefix. */
  private Map<String, NDArray> checkpointTensors() {
    Map<String, NDArray> own = rounds == null ? Map.of() : rounds.tensors();
    if (own.isEmpty()) {
      return controller.tensors();
    }
    Map<String, NDArray> all = new LinkedHashMap<>(controller.tensors());
    own.forEach((k, v) -> all.put(OUTER + k, v));
    return all;
  }

  /** The scalar state to resume at step {@code next}. */
  public Checkpoint.State state(int next) {
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("controller", controller.state());
    if (Double.isFinite(lastLoss)) {
      extra.put(LAST_LOSS, lastLoss);
    }
    return new Checkpoint.State(
        next,
        scaler.scale(),
        scaler.goodSteps(),
        scaler.enabled(),
        badSteps,
        adapters.dropout(),
        adapters.entries(),
        extra,
        tokens,
        seconds,
        fingerprint);
  }

  /** The seed of a step: dropout masks are a function of (run seed, step). */
  public long stepSeed(int step) {
    return settings.seed() * 1_000_003L + step;
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format("%dh%02dm", s / 3600, s % 3600 / 60)
        : String.format("%dm%02ds", s / 60, s % 60);
  }
}
