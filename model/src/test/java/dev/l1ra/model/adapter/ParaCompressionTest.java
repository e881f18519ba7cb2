package dev.l1ra.model.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.plan.ParaCompressor;
import dev.l1ra.core.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PARA on the fixture adapters: exact at full energy, best low-rank factors, PEFT round trip. */
class ParaCompressionTest {
  @TempDir Path tmp;

  static final Path MODEL = Fixtures.model("tiny-llama3");

  /** max over modules of max |ΔW_a − ΔW_b|. */
  static float maxDeltaDiff(AdapterSet x, AdapterSet y) {
    float err = 0;
    for (Adapter a : x.all()) {
      try (NDArray wa = a.mergedWeight();
          NDArray wb = y.getOrNull(a.id()).mergedWeight()) {
        err = Math.max(err, wa.sub(wb).abs().max().getFloat());
      }
    }
    return err;
  }

  @Test
  void fullEnergyKeepsEveryDeltaAndRoundTripsThroughPeft() {
    ModelConfig model = ModelConfigs.load(MODEL);
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdapterSet set = PeftAdapters.load(MODEL.resolve("lora-pattern"), model, m).adapters()) {
      ParaCompression.Result r = ParaCompression.compress(set, ParaCompressor.Target.energy(1), m);
      try (AdapterSet c = r.adapters()) {
        float err = maxDeltaDiff(set, c);
        System.out.printf(
            "PARA energy 1.0: Σr %d -> %d, max|dΔW|=%.3g%n",
            set.layout().totalRank(), c.layout().totalRank(), err);
        assertTrue(err <= 1e-6f, "ΔW unchanged: " + err);
        assertEquals(set.layout().totalRank(), c.layout().totalRank(), "random B: full rank kept");
        assertEquals(1.0, r.plan().keptEnergy(), 1e-12);
        Path out = tmp.resolve("para");
        PeftAdapters.save(c, out, "tiny-llama3", "LlamaForCausalLM");
        try (AdapterSet back = PeftAdapters.load(out, model, m).adapters()) {
          for (Adapter a : c.all()) {
            assertEquals(a.spec().rank(), back.getOrNull(a.id()).spec().rank(), "rank_pattern");
          }
          assertTrue(maxDeltaDiff(c, back) <= 1e-6f, "exported and reloaded");
        }
      }
    }
  }

  @Test
  void aRankBudgetKeepsTheLargestTripletsAcrossLayers() {
    ModelConfig model = ModelConfigs.load(MODEL);
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdapterSet set = PeftAdapters.load(MODEL.resolve("lora-r4"), model, m).adapters()) {
      int before = set.layout().totalRank(); // 14 adapters x 4
      ParaCompression.Result r =
          ParaCompression.compress(set, ParaCompressor.Target.ranks(before / 2), m);
      try (AdapterSet c = r.adapters()) {
        assertEquals(before / 2, c.layout().totalRank(), "exactly the budget");
        assertTrue(
            c.layout().specs().stream().map(s -> s.rank()).distinct().count() > 1,
            "one global threshold gives different ranks per module: " + r.plan().ranks());
        // each kept adapter is the best rank-k approximation: its error is the dropped energy
        for (Adapter a : set.all()) {
          Adapter k = c.getOrNull(a.id());
          try (NDArray full = a.mergedWeight();
              NDArray low = k.mergedWeight()) {
            double dropped = full.sub(low).square().sum().getFloat();
            double total = full.square().sum().getFloat();
            double kept = low.square().sum().getFloat();
            assertEquals(total, dropped + kept, 1e-4 * total, a.id() + ": Pythagoras (orthogonal)");
          }
        }
        assertTrue(r.plan().keptEnergy() < 1 && r.plan().keptEnergy() > 0.5, "" + r.plan());
      }
    }
  }

  @Test
  void deadGatesDisappearAtFullEnergy() {
    ModelConfig model = ModelConfigs.load(MODEL);
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        AdapterSet plain = PeftAdapters.load(MODEL.resolve("lora-r4"), model, m).adapters()) {
      // an L1RA-style adapter: the same q_proj with two of its four gates at 0
      LoraAdapter q = (LoraAdapter) plain.getOrNull(new ModuleId(0, LinearKind.Q));
      LoraAdapter gated =
          new LoraAdapter(
              q.spec(),
              q.a().duplicate(),
              q.b().duplicate(),
              m.create(new float[] {1, 0, 0.5f, 0}));
      try (AdapterSet set = new AdapterSet(List.of(gated), 0);
          AdapterSet c =
              ParaCompression.compress(set, ParaCompressor.Target.energy(1), m).adapters()) {
        assertEquals(2, c.layout().totalRank(), "zero gates carry no energy");
        assertTrue(maxDeltaDiff(set, c) <= 1e-6f);
      }
    }
  }
}
