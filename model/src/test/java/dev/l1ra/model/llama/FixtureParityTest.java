package dev.l1ra.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.loss.CausalLmLoss;
import dev.l1ra.model.testing.Expected;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Logits, loss and LoRA gradients against transformers + PEFT (fp32, CPU). */
class FixtureParityTest {
  static final float LOGIT_TOL = 1e-4f;
  static final double LOSS_REL_TOL = 1e-5;
  static final float GRAD_TOL = 1e-4f;

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
    try (LlamaModel model =
            LlamaModel.load(dir, Device.cpu(), Precision.FP32, new PlainAttention());
        Expected exp = new Expected(dir.resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      Batch batch = exp.batch(model.manager());
      NDArray logits = model.logits(batch, null, false);
      float err = Expected.maxAbsDiff(logits, exp.array(model.manager(), "logits"));
      float loss = loss(model, exp, logits);
      float want = exp.scalar("loss");
      System.out.printf(
          "%s base: max|dlogits|=%.3g loss=%.7f want=%.7f rel=%.3g%n",
          name, err, loss, want, Math.abs(loss - want) / want);
      assertTrue(err <= LOGIT_TOL, name + ": logits differ by " + err);
      assertEquals(want, loss, Math.abs(want) * LOSS_REL_TOL, name + ": loss");
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void bothConfigLayoutsGiveTheSameModel(String name) {
    Path dir = Fixtures.model(name);
    assertEquals(
        ModelConfigs.load(dir.resolve("config.json")),
        ModelConfigs.load(dir.resolve("config.v4-style.json")));
  }

  @ParameterizedTest
  @MethodSource("modelsAndAdapters")
  void adapterLogitsLossAndGradientsMatchPeft(String name, String adapter) {
    Path dir = Fixtures.model(name);
    try (LlamaModel model =
            LlamaModel.load(dir, Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager adapters = model.manager().newSubManager();
        Expected exp = new Expected(dir.resolve("expected.safetensors"));
        Expected want = new Expected(dir.resolve(adapter).resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      AdapterSet set = PeftAdapters.load(dir.resolve(adapter), model.config(), adapters).adapters();
      Batch batch = exp.batch(model.manager());
      float loss;
      NDArray logits;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        logits = model.logits(batch, set, false);
        NDArray l = lossArray(model, exp, logits);
        gc.backward(l);
        loss = l.getFloat();
      }
      float err = Expected.maxAbsDiff(logits, want.array(model.manager(), "logits"));
      float gradErr = 0;
      for (TrainableParam p : set.trainable()) {
        NDArray g = p.array().getGradient();
        gradErr =
            Math.max(
                gradErr, Expected.maxAbsDiff(g, want.array(model.manager(), p.name() + ".grad")));
      }
      float wantLoss = want.scalar("loss");
      System.out.printf(
          "%s/%s: max|dlogits|=%.3g loss rel=%.3g max|dgrad|=%.3g%n",
          name, adapter, err, Math.abs(loss - wantLoss) / wantLoss, gradErr);
      assertTrue(err <= LOGIT_TOL, "logits differ by " + err);
      assertEquals(wantLoss, loss, Math.abs(wantLoss) * LOSS_REL_TOL, "loss");
      assertTrue(gradErr <= GRAD_TOL, "LoRA gradients differ by " + gradErr);
      assertEquals(
          want.file().names().size() - 2, set.trainable().size(), "one gradient per lora tensor");
    }
  }

  @ParameterizedTest
  @MethodSource("modelsAndAdapters")
  void mergedWeightLogitsMatchPeftMergeAndUnload(String name, String adapter) {
    Path dir = Fixtures.model(name);
    try (LlamaModel model =
            LlamaModel.load(dir, Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager adapters = model.manager().newSubManager();
        Expected exp = new Expected(dir.resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      AdapterSet set = PeftAdapters.load(dir.resolve(adapter), model.config(), adapters).adapters();
      try (LlamaModel merged = model.withMergedAdapters(set)) {
        NDArray logits = merged.logits(exp.batch(merged.manager()), null, false);
        float err =
            Expected.maxAbsDiff(logits, exp.array(merged.manager(), adapter + ".merged_logits"));
        System.out.printf("%s/%s merged: max|dlogits|=%.3g%n", name, adapter, err);
        assertTrue(err <= LOGIT_TOL, "merged logits differ by " + err);
      }
    }
  }

  private static float loss(LlamaModel model, Expected exp, NDArray logits) {
    return lossArray(model, exp, logits).getFloat();
  }

  private static NDArray lossArray(LlamaModel model, Expected exp, NDArray logits) {
    long[] shifted = CausalLmLoss.shift(exp.longs2d("labels"));
    long[][] ids = exp.longs2d("input_ids");
    NDList t = CausalLmLoss.targets(model.manager(), shifted, ids.length, ids[0].length);
    return CausalLmLoss.nllSum(logits, t.get(0), t.get(1)).div(CausalLmLoss.countTargets(shifted));
  }
}
