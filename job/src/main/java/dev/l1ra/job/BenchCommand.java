package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterInit;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.memory.MemoryEstimate;
import dev.l1ra.core.memory.MemoryEstimator;
import dev.l1ra.job.report.RunReport;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.engine.Precisions;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.RandomModels;
import dev.l1ra.model.train.AdamW;
import dev.l1ra.model.train.GradientStep;
import dev.l1ra.model.train.HostBatch;
import dev.l1ra.model.train.TrainOptimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code bench --shape NAME --layers N --batch B --seq S --rank R --dtype fp32|fp16 --steps K
 * [--attention plain|fused] [--recompute]}: LoRA training steps (forward, backward, AdamW) on a
 * random-weight model of a known shape (or, with {@code --model DIR}, a Hugging Face model folder),
 * on the device the engine finds (GPU if any). The last line is one JSON object with tokens_per_s,
 * step_ms_median, peak_bytes (engine device memory on GPU; the process's resident peak on CPU, so
 * run one configuration per process) and the settings. Nothing is downloaded.
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
          "seed");

  private BenchCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("bench", argv, FLAGS, Set.of("recompute"));
    Precision p = a.get("dtype", "fp32", Precision::parse);
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
      AdapterSet adapters = AdapterSet.create(layout, m, AdapterInit.GAUSSIAN, 1, false, 0.0);
      List<HostBatch> micro = List.of(HostBatch.collate(randomRows(batch, seq, c.vocabSize()), 0));
      double[] ms = new double[steps];
      long peak = 0;
      try (TrainOptimizer opt = new TrainOptimizer(AdamW.Settings.defaults(), m)) {
        for (int s = -2; s < steps; s++) { // two warm-up steps
          long t0 = System.nanoTime();
          try (NDScope scope = new NDScope()) {
            double scale = p == Precision.FP16 ? 1024 : 1;
            GradientStep.accumulate(
                    m,
                    model,
                    adapters,
                    micro,
                    new GradientStep.Options(micro.get(0).learned(), scale, s, recompute))
                .getFloat();
            opt.step(
                adapters,
                TrainOptimizer.accumulated(adapters),
                scale,
                new TrainOptimizer.Hyper(1e-4, 0, 1.0, null));
            TrainOptimizer.zeroGrad(adapters);
          }
          if (s >= 0) {
            ms[s] = (System.nanoTime() - t0) / 1e6;
          }
          peak = Math.max(peak, peakBytes(device));
        }
      }
      MemoryEstimate estimate =
          MemoryEstimator.estimate(
              MemoryCommand.setup(
                  c,
                  p,
                  layout,
                  false,
                  batch,
                  seq,
                  recompute,
                  kernel.name().equals("fused"),
                  device.isGpu(),
                  0));
      System.out.println(
          json(a, c, layout, p, kernel, device, recompute, batch, seq, ms, peak, estimate));
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
    return 0;
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
      return ai.djl.util.cuda.CudaUtils.getGpuMemory(device).getCommitted();
    }
    return RunReport.peakResidentBytes();
  }

  private static String json(
      Args a,
      ModelConfig c,
      AdapterLayout layout,
      Precision p,
      AttentionKernel kernel,
      Device device,
      boolean recompute,
      int batch,
      int seq,
      double[] ms,
      long peak,
      MemoryEstimate estimate) {
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
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
    n.put("steps", ms.length);
    n.put("step_ms_median", Math.round(median * 10) / 10.0);
    n.put("tokens_per_s", Math.round(batch * seq / (median / 1000)));
    n.put("peak_bytes", peak);
    n.put("peak_gib", MemoryEstimate.roundedGib(peak));
    n.put("estimate_gib", MemoryEstimate.roundedGib(estimate.peak()));
    return n.toString();
  }
}
