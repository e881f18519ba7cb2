package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.data.DataOrder;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.model.adapter.AdapterSet;
import java.io.UncheckedIOException;
import java.nio.file.Path;
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

  public Trainer(
      Settings settings,
      AdapterSet adapters,
      TrainOptimizer optimizer,
      GradientSource source,
      Evaluator evaluator,
      RankController controller,
      LossScaler scaler,
      List<TrainListener> listeners) {
    this.settings = settings;
    this.adapters = adapters;
    this.optimizer = optimizer;
    this.source = source;
    this.evaluator = evaluator;
    this.controller =
        Objects.requireNonNull(controller, "controller (RankController.NONE for none)");
    this.scaler = scaler;
    this.listeners = List.copyOf(listeners);
    this.order = new DataOrder(settings.seed(), source.size(), settings.globalBatch());
  }

  /**
   * Restores the state of a checkpoint (adapters and moments are restored by the caller).
   *
   * @param controllerTensors the rank controller's tensors ({@link Checkpoint#readTensors})
   */
  public void restore(Checkpoint.State s, Map<String, NDArray> controllerTensors) {
    controller.restoreTensors(controllerTensors);
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
    for (int step = start; step < settings.totalSteps(); step++) {
      TrainListener.StepRecord r = trainStep(step, t0);
      maybeReallocate(step);
      log(r);
      maybeEvaluate(step + 1);
      maybeCheckpoint(step + 1);
    }
    if (lastEval == null
        || settings.evalEvery() <= 0
        || settings.totalSteps() % settings.evalEvery() != 0) {
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
      handleBadStep(step, ok, o, g);
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
  private void handleBadStep(
      int step, boolean ok, TrainOptimizer.Outcome o, GradientSource.StepGradients g) {
    if (ok) {
      badSteps = 0;
      return;
    }
    skipped++;
    boolean overflowOnly =
        scaler.enabled() && Double.isFinite(g.nllSum()) && scaler.scale() > LossScaler.MIN_SCALE;
    LOG.warn(
        "step {}: {} (loss {}, grad norm {}); the update was skipped{}",
        step + 1,
        overflowOnly ? "fp16 gradient overflow" : "non-finite loss or gradient",
        g.loss(),
        o.gradNorm(),
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

  private void maybeReallocate(int step) {
    controller.afterStep(
        step + 1,
        settings.totalSteps(),
        adapters,
        optimizer.adam(),
        settings.lr().applyAsDouble(step));
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

  private void maybeEvaluate(int done) {
    if (settings.evalEvery() > 0 && done % settings.evalEvery() == 0) {
      evaluate(done);
    }
  }

  private void evaluate(int done) {
    if (evaluator == null) {
      return;
    }
    lastEval = evaluator.evaluate(adapters);
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

  /** Checkpoints when due, at the end, and when a listener asks to stop (then stops). */
  private void maybeCheckpoint(int done) {
    boolean due = settings.checkpointEvery() > 0 && done % settings.checkpointEvery() == 0;
    String stop = stopRequested();
    Path saved = null;
    if (due || done == settings.totalSteps() || stop != null) {
      saved = checkpoint(done);
    }
    if (stop != null && done < settings.totalSteps()) {
      throw new StoppedException(stop, done, settings.totalSteps(), saved);
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
    Checkpoint.save(dir, adapters, optimizer.adam(), state(next), controller.tensors());
    try {
      Checkpoint.prune(settings.checkpointDir(), settings.keepCheckpoints());
    } catch (UncheckedIOException e) {
      LOG.warn("could not prune old checkpoints in {}: {}", settings.checkpointDir(), e.toString());
    }
    return dir;
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
