package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.testing.Expected;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiny fixture models with the fused kernel: logits, loss and LoRA gradients against
 * transformers + PEFT (as {@code FixtureParityTest} checks the plain kernel), and fused vs plain on
 * a padded and packed batch through the whole model.
 */
class FusedFixtureParityTest {
  static final float LOGIT_TOL = 1e-4f;
  static final double LOSS_REL_TOL = 1e-5;
  static final float GRAD_TOL = 1e-4f;

  static FusedAttention fused;

  @BeforeAll
  static void load() {
    fused = FusedAttention.load(Device.cpu());
  }

  @AfterAll
  static void close() {
    fused.close();
  }

  static Stream<String> models() {
    return Fixtures.MODELS.stream();
  }

  static Stream<Arguments> modelsAndAdapters() {
    return Fixtures.MODELS.stream()
        .flatMap(m -> Fixtures.ADAPTERS.stream().map(a -> Arguments.of(m, a)));
  }

  @ParameterizedTest
  @MethodSource("models")
  void baseLogitsAndLossMatchTransformers(String name) {
    Path dir = Fixtures.model(name);
    try (LlamaModel model = LlamaModel.load(dir, Device.cpu(), Precision.FP32, fused);
        Expected exp = new Expected(dir.resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      NDArray logits = model.logits(exp.batch(model.manager()), null, false);
      float err = Expected.maxAbsDiff(logits, exp.array(model.manager(), "logits"));
      float loss = lossArray(model.manager(), exp, logits).getFloat();
      float want = exp.scalar("loss");
      System.out.printf(
          "%s fused base: max|dlogits|=%.3g loss=%.7f want=%.7f%n", name, err, loss, want);
      assertTrue(err <= LOGIT_TOL, name + ": logits differ by " + err);
      assertEquals(want, loss, Math.abs(want) * LOSS_REL_TOL, name + ": loss");
    }
  }

  @ParameterizedTest
  @MethodSource("modelsAndAdapters")
  void adapterLogitsLossAndGradientsMatchPeft(String name, String adapter) {
    Path dir = Fixtures.model(name);
    try (LlamaModel model = LlamaModel.load(dir, Device.cpu(), Precision.FP32, fused);
        NDManager adapters = model.manager().newSubManager();
        Expected exp = new Expected(dir.resolve("expected.safetensors"));
        Expected want = new Expected(dir.resolve(adapter).resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      AdapterSet set = PeftAdapters.load(dir.resolve(adapter), model.config(), adapters).adapters();
      NDArray logits;
      float loss;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        logits = model.logits(exp.batch(model.manager()), set, false);
        NDArray l = lossArray(model.manager(), exp, logits);
        gc.backward(l);
        loss = l.getFloat();
      }
      float err = Expected.maxAbsDiff(logits, want.array(model.manager(), "logits"));
      float gradErr = 0;
      for (TrainableParam p : set.trainable()) {
        NDArray g = p.array().getGradient();
        NDArray w = want.array(model.manager(), p.name() + ".grad");
        gradErr = Math.max(gradErr, Expected.maxAbsDiff(g, w));
      }
      float wantLoss = want.scalar("loss");
      System.out.printf(
          "%s/%s fused: max|dlogits|=%.3g loss rel=%.3g max|dgrad|=%.3g%n",
          name, adapter, err, Math.abs(loss - wantLoss) / wantLoss, gradErr);
      assertTrue(err <= LOGIT_TOL, "logits differ by " + err);
      assertEquals(wantLoss, loss, Math.abs(wantLoss) * LOSS_REL_TOL, "loss");
      assertTrue(gradErr <= GRAD_TOL, "LoRA gradients differ by " + gradErr);
      assertTrue(set.trainable().size() > 0);
    }
  }

  /**
   * Row 0 packs two samples (positions restart), row 1 has five leading pads; the loss skips
   * padding and sample boundaries. Logits at real tokens and every LoRA gradient must agree.
   */
  @ParameterizedTest
  @MethodSource("models")
  void paddedAndPackedBatchAgreesWithPlain(String name) {
    Path dir = Fixtures.model(name);
    Result plain = trainStep(dir, new PlainAttention());
    Result fast = trainStep(dir, fused);
    float logitErr = FusedAttentionTest.maxAbs(plain.realLogits(), fast.realLogits());
    float gradErr = 0;
    for (Map.Entry<String, float[]> e : plain.grads().entrySet()) {
      gradErr =
          Math.max(gradErr, FusedAttentionTest.maxAbs(e.getValue(), fast.grads().get(e.getKey())));
    }
    System.out.printf(
        "%s padded+packed fused vs plain: max|dlogits|=%.3g max|dgrad|=%.3g loss %.7f vs %.7f%n",
        name, logitErr, gradErr, fast.loss(), plain.loss());
    assertTrue(logitErr <= LOGIT_TOL, "logits at real tokens differ by " + logitErr);
    assertTrue(gradErr <= GRAD_TOL, "LoRA gradients differ by " + gradErr);
    assertEquals(plain.loss(), fast.loss(), Math.abs(plain.loss()) * LOSS_REL_TOL, "loss");
  }

  record Result(float[] realLogits, Map<String, float[]> grads, float loss) {}

  private static Result trainStep(Path dir, AttentionKernel kernel) {
    try (LlamaModel model = LlamaModel.load(dir, Device.cpu(), Precision.FP32, kernel);
        NDManager step = model.manager().newSubManager();
        Expected exp = new Expected(dir.resolve("expected.safetensors"))) {
      AdapterSet set = PeftAdapters.load(dir.resolve("lora-r4"), model.config(), step).adapters();
      long[][] ids = exp.longs2d("input_ids");
      int b = ids.length;
      int t = ids[0].length;
      int[] keep = new int[b * t];
      int[] seg = new int[b * t];
      long[] pos = new long[b * t];
      long[] flat = new long[b * t];
      long[] targets = new long[b * t];
      for (int j = 0; j < t; j++) {
        keep[j] = 1;
        seg[j] = j < 10 ? 0 : 1;
        pos[j] = j < 10 ? j : j - 10;
        keep[t + j] = j < 5 ? 0 : 1;
        seg[t + j] = 0;
        pos[t + j] = Math.max(0, j - 5);
      }
      for (int i = 0; i < b * t; i++) {
        flat[i] = ids[i / t][i % t];
        boolean next = i % t + 1 < t && seg[i] == seg[i + 1] && keep[i] == 1 && keep[i + 1] == 1;
        targets[i] = next ? flat[i + 1] : CausalLmLoss.IGNORE;
      }
      Shape s = new Shape(b, t);
      Batch batch =
          Batch.of(
              step.create(flat, s), step.create(pos, s), step.create(keep, s), step.create(seg, s));
      NDList tg = CausalLmLoss.targets(step, targets, b, t);
      float loss;
      NDArray logits;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        logits = model.logits(batch, set, false);
        NDArray l =
            CausalLmLoss.nllSum(logits, tg.get(0), tg.get(1))
                .div(CausalLmLoss.countTargets(targets));
        gc.backward(l);
        loss = l.getFloat();
      }
      NDArray real = step.create(keep, s).expandDims(2).toType(logits.getDataType(), false);
      Map<String, float[]> grads = new LinkedHashMap<>();
      for (TrainableParam p : set.trainable()) {
        grads.put(p.name(), p.array().getGradient().toFloatArray());
      }
      return new Result(logits.mul(real).toFloatArray(), grads, loss);
    }
  }

  private static NDArray lossArray(NDManager m, Expected exp, NDArray logits) {
    long[] shifted = CausalLmLoss.shift(exp.longs2d("labels"));
    long[][] ids = exp.longs2d("input_ids");
    NDList t = CausalLmLoss.targets(m, shifted, ids.length, ids[0].length);
    return CausalLmLoss.nllSum(logits, t.get(0), t.get(1)).div(CausalLmLoss.countTargets(shifted));
  }
}
