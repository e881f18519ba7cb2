package dev.l1ra.model.parity;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.TensorInfo;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.engine.Ops;
import dev.l1ra.model.fused.AttentionKernels;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.train.GradientStep;
import dev.l1ra.model.train.HostBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model-level parity checks against the reference fixtures (tiny Llama/Mistral/Qwen2 models
 * with logits, losses and LoRA gradients from transformers + PEFT), runnable on any device: the
 * base model and a PEFT LoRA adapter through the training path ({@link GradientStep}), with plain
 * attention, with the fused kernels (whole-layer scripts), with layer-wise recomputation, and in
 * fp16. fp32 must meet the fixture tolerances (logits ≤ 1e-4 max abs, loss ≤ 1e-5 relative,
 * gradients ≤ 1e-4 max abs); fp16 is held to {@link #FP16_LOGITS}, {@link #FP16_LOSS} and {@link
 * #FP16_GRADS}.
 */
public final class FixtureParity {
  public static final double LOGITS = 1e-4;
  public static final double LOSS = 1e-5;
  public static final double GRADS = 1e-4;

  /** fp16 compute (fp32 adapters): logits max abs error. */
  public static final double FP16_LOGITS = 2e-2;

  /** fp16: loss relative error. */
  public static final double FP16_LOSS = 2e-3;

  /** fp16: gradient max abs error relative to the largest reference gradient. */
  public static final double FP16_GRADS = 2e-2;

  public static final List<String> MODELS = List.of("tiny-llama3", "tiny-mistral", "tiny-qwen2");

  private static final String ADAPTER = "lora-r4";
  private static final int WARM_PASSES = 3;

  /** One measured error against its tolerance. */
  public record Check(String name, double error, double tolerance) {
    public boolean passed() {
      return error <= tolerance;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%-4s %-52s error %.3g (tolerance %.0e)",
          passed() ? "ok" : "FAIL",
          name,
          error,
          tolerance);
    }
  }

  private FixtureParity() {}

  /**
   * Every check for every fixture model under {@code fixtures} on {@code device}.
   *
   * @throws IllegalArgumentException when the fixture folder is missing or incomplete
   */
  public static List<Check> run(Path fixtures, Device device) {
    List<Check> out = new ArrayList<>();
    for (String m : MODELS) {
      Path dir = fixtures.resolve(m);
      if (!Files.isRegularFile(dir.resolve("expected.safetensors"))) {
        throw new IllegalArgumentException(
            "fixture folder "
                + dir
                + " has no expected.safetensors; point --fixtures at the project's"
                + " testdata/fixtures");
      }
      for (AttentionKind kernel : List.of(AttentionKind.PLAIN, AttentionKind.FUSED)) {
        out.addAll(base(dir, m, kernel, device));
        out.addAll(adapter(dir, m, kernel, Precision.FP32, false, device));
      }
      out.addAll(adapter(dir, m, AttentionKind.FUSED, Precision.FP32, true, device));
      out.addAll(adapter(dir, m, AttentionKind.FUSED, Precision.FP16, false, device));
    }
    return out;
  }

  /** The base model's logits and loss. */
  private static List<Check> base(Path dir, String name, AttentionKind kernelName, Device device) {
    AttentionKernel kernel = AttentionKernels.create(kernelName, device);
    try (LlamaModel model = LlamaModel.load(dir, device, Precision.FP32, kernel);
        SafetensorsFile exp = SafetensorsFile.open(dir.resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      NDManager m = model.manager();
      NDArray logits = null;
      for (int pass = 0; pass < WARM_PASSES; pass++) {
        logits = model.logits(batch(m, exp), null, false);
      }
      String what = name + " base fp32 " + kernelName;
      return List.of(
          new Check(what + ": logits", maxAbs(logits, array(m, exp, "logits")), LOGITS),
          new Check(what + ": loss", relative(loss(m, exp, logits), exp.floats("loss")[0]), LOSS));
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
  }

  /** The PEFT adapter's logits, loss and gradients through the training path. */
  private static List<Check> adapter(
      Path dir,
      String name,
      AttentionKind kernelName,
      Precision p,
      boolean recompute,
      Device device) {
    AttentionKernel kernel = AttentionKernels.create(kernelName, device);
    boolean fp16 = p == Precision.FP16;
    try (LlamaModel model = LlamaModel.load(dir, device, p, kernel);
        NDManager am = model.manager().newSubManager();
        SafetensorsFile base = SafetensorsFile.open(dir.resolve("expected.safetensors"));
        SafetensorsFile want =
            SafetensorsFile.open(dir.resolve(ADAPTER).resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      NDManager m = model.manager();
      AdapterSet set = PeftAdapters.load(dir.resolve(ADAPTER), model.config(), am).adapters();
      List<Sample> rows = samples(base);
      long learned = rows.stream().mapToLong(Sample::learnedTokens).sum();
      double scale = fp16 ? 1024 : 1;
      // three passes, the last one checked: on a GPU the layer scripts run under TorchScript's
      // profiling executor, which runs its optimized (fused) graph from the second pass on
      double nll = 0;
      NDArray logits = null;
      for (int pass = 0; pass < WARM_PASSES; pass++) {
        set.trainable().forEach(t -> Ops.zeroGrad(t.array()));
        nll =
            GradientStep.accumulate(
                    model,
                    set,
                    HostBatch.split(rows, rows.size(), 0),
                    new GradientStep.Options(learned, scale, 0, recompute))
                .getFloat();
        logits = model.logits(batch(m, base), set, false).toType(DataType.FLOAT32, false);
      }
      double gradErr = 0;
      double gradMax = 0;
      for (TrainableParam t : set.trainable()) {
        NDArray ref = array(m, want, t.name() + ".grad");
        NDArray g = t.array().getGradient().div((float) scale);
        gradErr = Math.max(gradErr, maxAbs(g, ref));
        gradMax = Math.max(gradMax, ref.abs().max().getFloat());
      }
      String what =
          String.format(
              Locale.ROOT,
              "%s %s %s %s%s",
              name,
              ADAPTER,
              fp16 ? "fp16" : "fp32",
              kernelName,
              recompute ? " recompute" : "");
      double loss = relative(nll / learned, want.floats("loss")[0]);
      double logitErr = maxAbs(logits, array(m, want, "logits"));
      set.close();
      return List.of(
          new Check(what + ": logits", logitErr, fp16 ? FP16_LOGITS : LOGITS),
          new Check(what + ": loss", loss, fp16 ? FP16_LOSS : LOSS),
          new Check(
              what + (fp16 ? ": gradients (rel. to max)" : ": gradients"),
              fp16 ? gradErr / gradMax : gradErr,
              fp16 ? FP16_GRADS : GRADS));
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
  }

  /** The fixture rows as training samples (ids and labels; every position attended). */
  private static List<Sample> samples(SafetensorsFile f) {
    long[][] ids = longs2d(f, "input_ids");
    long[][] labels = longs2d(f, "labels");
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      int[] x = new int[ids[i].length];
      int[] y = new int[ids[i].length];
      for (int j = 0; j < x.length; j++) {
        x[j] = (int) ids[i][j];
        y[j] = (int) labels[i][j];
      }
      out.add(new Sample("fixture-" + i, x, y, null, null));
    }
    return out;
  }

  private static Batch batch(NDManager m, SafetensorsFile f) {
    long[][] ids = longs2d(f, "input_ids");
    long[][] mask = longs2d(f, "attention_mask");
    int[][] keep = new int[mask.length][];
    for (int i = 0; i < mask.length; i++) {
      keep[i] = new int[mask[i].length];
      for (int j = 0; j < keep[i].length; j++) {
        keep[i][j] = (int) mask[i][j];
      }
    }
    return Batch.of(m, ids, keep);
  }

  /** The mean next-token loss as transformers computes it. */
  private static double loss(NDManager m, SafetensorsFile f, NDArray logits) {
    long[] shifted = CausalLmLoss.shift(longs2d(f, "labels"));
    long[][] ids = longs2d(f, "input_ids");
    NDList t = CausalLmLoss.targets(m, shifted, ids.length, ids[0].length);
    return CausalLmLoss.nllSum(logits, t.get(0), t.get(1)).getFloat()
        / CausalLmLoss.countTargets(shifted);
  }

  private static long[][] longs2d(SafetensorsFile f, String name) {
    TensorInfo info = f.info(name);
    long[] flat = f.longs(name);
    int b = (int) info.shape()[0];
    int t = (int) info.shape()[1];
    long[][] out = new long[b][t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * t, out[i], 0, t);
    }
    return out;
  }

  private static NDArray array(NDManager m, SafetensorsFile f, String name) {
    return m.create(f.floats(name), new Shape(f.info(name).shape()));
  }

  private static double maxAbs(NDArray a, NDArray b) {
    return a.sub(b).abs().max().getFloat();
  }

  private static double relative(double got, double want) {
    return Math.abs(got - want) / Math.abs(want);
  }
}
