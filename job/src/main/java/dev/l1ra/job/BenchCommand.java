package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.memory.MemoryCheck;
import dev.l1ra.core.memory.MemoryEstimate;
import dev.l1ra.core.memory.MemoryEstimator;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.optim.GateRule;
import dev.l1ra.core.plan.AdaLoraBudget;
import dev.l1ra.core.plan.L1raPlanner;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Precisions;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.RandomModels;
import dev.l1ra.model.train.AdaLoraController;
import dev.l1ra.model.train.GradientStep;
import dev.l1ra.model.train.HostBatch;
import dev.l1ra.model.train.L1raController;
import dev.l1ra.model.train.RankController;
import dev.l1ra.model.train.TrainOptimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code bench --shape NAME --layers N --batch B --seq S --rank R --dtype fp32|fp16 --steps K
 * [--method lora|l1ra|adalora] [--attention plain|fused] [--recompute]}: training steps (forward,
 * backward, the method's controller hooks, AdamW) on a random-weight model of a known shape (or,
 * with {@code --model DIR}, a Hugging Face model folder), on the device the engine finds (GPU if
 * any). The last line is one JSON object with tokens_per_s, step_ms_median, the phase split
 * (forward_backward_ms: until the loss is read; optimizer_ms: the controller hooks and the update
 * until its result is read; other_ms: gradient zeroing, per-step statistics and the rest; each a
 * median), peak_bytes (engine device memory on GPU; the process's resident peak on CPU, so run one
 * configuration per process) and the settings. Nothing is downloaded.
 */
final class BenchCommand {
  static final Set<String> FLAGS =
      Set.of(
          "shape",
          "model",
          "layers",
          "batch",
          "seq",
          "rank",
          "dtype",
          "steps",
          "attention",
          "device",
          "threads",
          "seed",
          "method");

  private static final List<String> METHODS = List.of("lora", "l1ra", "adalora");

  private BenchCommand() {}

  /** Milliseconds of each phase of each timed step. */
  private record Phases(double[] total, double[] grad, double[] opt, double[] other) {
    Phases(int n) {
      this(new double[n], new double[n], new double[n], new double[n]);
    }
  }

  static int run(String[] argv) {
    Args a = Args.parse("bench", argv, FLAGS, Set.of("recompute"));
    Precision p = a.get("dtype", "fp32", Precision::parse);
    String method = a.get("method", "lora");
    if (!METHODS.contains(method)) {
      throw new IllegalArgumentException(
          "bench: --method \"" + method + "\" is not one of " + String.join(", ", METHODS));
    }
    int batch = a.getPositive("batch", 4);
    int seq = a.getPositive("seq", 512);
    int steps = a.getPositive("steps", 5);
    int rank = a.getPositive("rank", 16);
    boolean recompute = a.has("recompute");
    EngineInfo.setThreads(a.getInt("threads", 0));
    Device device = EngineInfo.device(a.get("device", "auto"));
    AttentionKernel kernel = AttentionKernels.create(a.get("attention", "auto"), device);
    try (LlamaModel model = model(a, device, p, kernel);
        NDManager m = model.manager().newSubManager()) {
      ModelConfig c = model.config();
      AdapterLayout layout =
          AdapterLayout.resolve(c, LoraSettings.uniform(rank, rank, List.of("all-linear")));
      AdapterSet adapters = adapters(method, layout, m);
      RankController controller = controller(method, layout, steps, m);
      List<HostBatch> micro = List.of(HostBatch.collate(randomRows(batch, seq, c.vocabSize()), 0));
      Phases ph = new Phases(steps);
      long peak = 0;
      boolean multiTensor;
      try (TrainOptimizer opt = new TrainOptimizer(AdamSettings.defaults(), m)) {
        multiTensor = opt.multiTensor();
        for (int s = -2; s < steps; s++) { // two warm-up steps
          double[] t = step(model, adapters, controller, opt, micro, p, method, s, recompute);
          if (s >= 0) {
            ph.total[s] = t[0];
            ph.grad[s] = t[1];
            ph.opt[s] = t[2];
            ph.other[s] = t[0] - t[1] - t[2];
          }
          peak = Math.max(peak, peakBytes(device));
        }
      }
      MemoryEstimate estimate =
          MemoryEstimator.estimate(
              MemoryCheck.setup(
                      c,
                      p,
                      layout,
                      !method.equals("lora"),
                      batch,
                      seq,
                      recompute,
                      kernel.name().equals("fused"),
                      device.isGpu(),
                      0)
                  .on(true, device.isGpu())); // the bench's AdamW runs on the device
      ObjectNode n = json(a, c, layout, p, kernel, device, recompute, batch, seq, ph, peak);
      n.put("method", method);
      n.put("adapter_tensors", adapters.trainable().size());
      n.put("multi_tensor_optimizer", multiTensor);
      n.put(
          "layer_graph_optimizer",
          kernel.name().equals("fused") && AttentionKernels.layerGraphOptimizer(device));
      n.put("estimate_gib", MemoryEstimate.roundedGib(estimate.peak()));
      System.out.println(n);
      adapters.close();
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
    return 0;
  }

  /**
   * One training step as the trainer runs it, with a device sync at each phase boundary.
   *
   * @return milliseconds: total, forward+backward, controller hooks + optimizer
   */
  private static double[] step(
      LlamaModel model,
      AdapterSet adapters,
      RankController controller,
      TrainOptimizer opt,
      List<HostBatch> micro,
      Precision p,
      String method,
      int s,
      boolean recompute) {
    long t0 = System.nanoTime();
    try (NDScope scope = new NDScope()) {
      double scale = p == Precision.FP16 ? 1024 : 1;
      GradientStep.Options o =
          new GradientStep.Options(micro.get(0).learned(), scale, s, recompute);
      GradientStep.accumulate(model, adapters, micro, o).getFloat(); // reads the loss: a sync
      long t1 = System.nanoTime();
      Map<String, NDArray> grads =
          controller.readsGradients() ? TrainOptimizer.accumulated(adapters) : null;
      controller.beforeUpdate(adapters, grads, scale);
      GateRule gates = method.equals("l1ra") ? new GateRule(1e-2, 1e-3, false) : null;
      TrainOptimizer.Outcome out =
          opt.step(adapters, grads, scale, new TrainOptimizer.Hyper(1e-4, 0, 1.0, gates));
      controller.observe(adapters, grads, out.gradCoef());
      adapters.trainable().get(0).array().sum().getFloat(); // the update has run: a sync
      long t2 = System.nanoTime();
      TrainOptimizer.zeroGrad(adapters);
      controller.stepStats(adapters);
      adapters.trainable().get(0).array().sum().getFloat();
      long t3 = System.nanoTime();
      return new double[] {(t3 - t0) / 1e6, (t1 - t0) / 1e6, (t2 - t1) / 1e6};
    }
  }

  /** Plain LoRA, gated LoRA (L1RA) or AdaLoRA's SVD form, r on every projection. */
  private static AdapterSet adapters(String method, AdapterLayout layout, NDManager m) {
    if (method.equals("adalora")) {
      List<Adapter> list = new ArrayList<>();
      for (AdapterSpec s : layout.specs()) {
        list.add(AdaLoraAdapter.create(s, m, 1));
      }
      return new AdapterSet(list, 0.0);
    }
    return AdapterSet.create(layout, m, AdapterInit.GAUSSIAN, 1, method.equals("l1ra"), 0.0);
  }

  /**
   * The method's per-step work besides the update: L1RA's gate statistics (its allocation events
   * are rare and not timed here), AdaLoRA's orthogonality gradient and importance averages.
   */
  private static RankController controller(
      String method, AdapterLayout layout, int steps, NDManager m) {
    return switch (method) {
      case "l1ra" ->
          new L1raController(
              new L1raPlanner.Settings(1e-4, 1e-3, 1e-6, true, true, L1raPlanner.Budget.RANK),
              Integer.MAX_VALUE,
              0,
              1,
              layout,
              false,
              List.of());
      case "adalora" ->
          new AdaLoraController(
              new AdaLoraBudget(
                  layout.totalRank(), layout.totalRank(), 0, 0, 1, Integer.MAX_VALUE / 2),
              0.85,
              0.85,
              0.5,
              m,
              List.of());
      default -> RankController.NONE;
    };
  }

  /** The model folder given by --model, else random weights of the --shape (and --layers). */
  private static LlamaModel model(Args a, Device device, Precision p, AttentionKernel kernel) {
    if (a.has("model")) {
      return LlamaModel.load(Path.of(a.get("model", null)), device, p, kernel);
    }
    ModelConfig shape = RandomModels.shape(a.get("shape", "tiny"), 32000);
    ModelConfig c =
        a.has("layers") ? shape.withNumLayers(a.getPositive("layers", shape.numLayers())) : shape;
    NDManager m = NDManager.newBaseManager(device, "PyTorch");
    return new LlamaModel(
        c, m, RandomModels.randomWeights(c, m, Precisions.dataType(p), 1), kernel);
  }

  /** Rows of random tokens, every target learned. */
  private static List<Sample> randomRows(int batch, int seq, int vocab) {
    SplittableRandom rng = new SplittableRandom(5);
    List<Sample> rows = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      int[] ids = rng.ints(seq, 3, vocab).toArray();
      rows.add(new Sample("r" + b, ids, ids.clone(), null, null));
    }
    return rows;
  }

  /** Engine device memory in use (GPU), else the process's resident peak. */
  private static long peakBytes(Device device) {
    if (device.isGpu()) {
      return CudaUtils.getGpuMemory(device).getCommitted();
    }
    return RunReport.peakResidentBytes();
  }

  private static ObjectNode json(
      Args a,
      ModelConfig c,
      AdapterLayout layout,
      Precision p,
      AttentionKernel kernel,
      Device device,
      boolean recompute,
      int batch,
      int seq,
      Phases ph,
      long peak) {
    double median = median(ph.total);
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("shape", a.has("model") ? a.get("model", null) : a.get("shape", "tiny"));
    n.put("layers", c.numLayers());
    n.put("batch", batch);
    n.put("seq", seq);
    n.put("rank", layout.specs().get(0).rank());
    n.put("dtype", p.toString());
    n.put("attention", kernel.name());
    n.put("recompute", recompute);
    n.put("device", device.toString());
    n.put("base_params", c.baseParameters());
    n.put("trainable", layout.parameters());
    n.put("steps", ph.total.length);
    n.put("step_ms_median", round(median));
    n.put("forward_backward_ms", round(median(ph.grad)));
    n.put("optimizer_ms", round(median(ph.opt)));
    n.put("other_ms", round(median(ph.other)));
    n.put("tokens_per_s", Math.round(batch * seq / (median / 1000)));
    n.put("peak_bytes", peak);
    n.put("peak_gib", MemoryEstimate.roundedGib(peak));
    return n;
  }

  private static double median(double[] xs) {
    double[] sorted = xs.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static double round(double ms) {
    return Math.round(ms * 10) / 10.0;
  }
}
