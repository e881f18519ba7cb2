package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.data.Sample;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.lora.LoraSettings;
import dev.l1ra.core.optim.AdamSettings;
import dev.l1ra.core.plan.AdaLoraBudget;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.adapter.AdaLoraAdapter;
import dev.l1ra.model.adapter.Adapter;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.adapter.PeftAdapters;
import dev.l1ra.model.adapter.TrainableParam;
import dev.l1ra.model.llama.Batch;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.llama.PlainAttention;
import dev.l1ra.model.testing.SyntheticSamples;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdaLoraTest {
  static final List<Sample> DATA = SyntheticSamples.make(4, 48, 320, 10, 24);
  @TempDir Path tmp;

  private static AdapterSet adalora(LlamaModel m, NDManager am, int initR) {
    AdapterLayout layout =
        AdapterLayout.resolve(m.config(), LoraSettings.uniform(initR, 8, List.of("all-linear")));
    List<Adapter> list = new ArrayList<>();
    layout.specs().forEach(s -> list.add(AdaLoraAdapter.create(s, am, 5)));
    return new AdapterSet(list, 0.0);
  }

  @Test
  void orthogonalityGradientEqualsAutograd() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        NDScope s = new NDScope()) {
      NDArray a = m.randomNormal(0, 0.3f, new Shape(4, 16), DataType.FLOAT32);
      NDArray b = m.randomNormal(0, 0.3f, new Shape(16, 4), DataType.FLOAT32);
      a.setRequiresGradient(true);
      b.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray la = a.matMul(a.transpose()).sub(m.eye(4)).norm();
        NDArray lb = b.transpose().matMul(b).sub(m.eye(4)).norm();
        gc.backward(la.add(lb));
      }
      AdaLoraAdapter ada =
          new AdaLoraAdapter(
              new AdapterSpec(new ModuleId(0, LinearKind.Q), 4, 8, 16, 16, false),
              a.duplicate(),
              m.zeros(new Shape(4)),
              b.duplicate());
      AdapterSet set = new AdapterSet(List.of(ada), 0);
      Map<String, NDArray> grads = new LinkedHashMap<>();
      for (TrainableParam p : set.trainable()) {
        grads.put(p.name(), p.array().zerosLike());
      }
      // weight 2 over 2 matrices -> the raw sum of the two norms' gradients
      new AdaLoraController(new AdaLoraBudget(4, 2, 0, 0, 1, 10), 0.85, 0.85, 2.0, m, List.of())
          .beforeUpdate(set, grads, 1.0);
      List<TrainableParam> p = set.trainable();
      assertArrayEquals(
          a.getGradient().toFloatArray(), grads.get(p.get(0).name()).toFloatArray(), 1e-5f);
      assertArrayEquals(
          b.getGradient().toFloatArray(), grads.get(p.get(1).name()).toFloatArray(), 1e-5f);
    }
  }

  @Test
  void masksToTheTargetBudgetAndExportsAsEquivalentPeftLora() {
    try (LlamaModel m =
            LlamaModel.load(
                Fixtures.model("tiny-llama3"), Device.cpu(), Precision.FP32, new PlainAttention());
        NDManager am = m.manager().newSubManager();
        TrainOptimizer opt = new TrainOptimizer(AdamSettings.defaults(), am)) {
      AdapterSet set = adalora(m, am, 6);
      int steps = 12;
      AdaLoraBudget budget = new AdaLoraBudget(6 * 14, 4 * 14, 2, 3, 1, steps);
      AdaLoraController c = new AdaLoraController(budget, 0.85, 0.85, 0.5, am, List.of());
      Trainer.Settings s =
          new Trainer.Settings(steps, 8, 3, step -> 1e-2, 0, 1.0, null, 3, 4, 0, 0, null, 1);
      new Trainer(
              s,
              set,
              opt,
              new LocalGradients(m, DATA, 4, 0, false),
              null,
              c,
              LossScaler.disabled(),
              List.of())
          .run(0);
      int active = set.all().stream().mapToInt(Adapter::effectiveRank).sum();
      assertEquals(4 * 14, active, "final budget = target_r x adapters");
      assertTrue(c.events() > 0);
      assertTrue(
          set.all().stream().anyMatch(a -> a.effectiveRank() != 4), "allocation is not uniform");
      // the exported plain LoRA adapter gives the same logits as the AdaLoRA adapters
      PeftAdapters.save(set, tmp.resolve("ada"), "tiny-llama3", "LlamaForCausalLM");
      AdapterSet lora = PeftAdapters.load(tmp.resolve("ada"), m.config(), am).adapters();
      try (NDScope scope = new NDScope()) {
        Batch b = HostBatch.collate(DATA.subList(0, 4), 0).toDevice(m.manager());
        float[] x = m.logits(b, set, false).toFloatArray();
        float[] y = m.logits(b, lora, false).toFloatArray();
        float d = 0;
        for (int i = 0; i < x.length; i++) {
          d = Math.max(d, Math.abs(x[i] - y[i]));
        }
        assertTrue(d < 1e-5, "exported LoRA equals AdaLoRA: " + d);
      }
      long empty = set.all().stream().filter(a -> a.effectiveRank() == 0).count();
      assertEquals(
          active + empty,
          lora.layout().totalRank(),
          "adapters with no active triplet export as rank 1 with B = 0");
    }
  }
}
