package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.linalg.LowRankSvd;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.plan.ParaCompressor;
import dev.l1ra.model.engine.Ops;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PARA post-hoc compression, the tensor part: the SVD of every trained ΔW = s·B·diag(c)·A (read to
 * the host once), one global singular-value threshold from {@link ParaCompressor}, and new LoRA
 * factors holding each adapter's top singular triplets: A' = √σ·Vᵀ, B' = U·√σ, scaling 1 (exported
 * as alpha = r', or √r' with rsLoRA). With every triplet kept, ΔW is unchanged up to rounding.
 */
public final class ParaCompression {

  /** The compressed adapters (caller closes) and the decision behind them. */
  public record Result(AdapterSet adapters, ParaCompressor.Result plan) {}

  private ParaCompression() {}

  /** The SVD of s·B·diag(c)·A, from the factors read to the host once. */
  private static LowRankSvd.Result svdOf(LoraAdapter lora) {
    AdapterSpec s = lora.spec();
    float[] b;
    try (NDArray fb = lora.foldedB()) {
      b = fb.toFloatArray();
    }
    return LowRankSvd.of(b, s.out(), s.rank(), lora.a().toFloatArray(), s.in(), lora.scaling());
  }

  /**
   * @param adapters trained adapters (LoRA gated or not, or AdaLoRA as its LoRA form); left
   *     unchanged
   * @param manager owns the new adapters' arrays
   */
  public static Result compress(
      AdapterSet adapters, ParaCompressor.Target target, NDManager manager) {
    Map<ModuleId, LowRankSvd.Result> svds = new LinkedHashMap<>();
    List<ParaCompressor.SingularValues> values = new ArrayList<>();
    for (Adapter any : adapters.all()) {
      LoraAdapter lora = any.asLora(manager);
      try {
        LowRankSvd.Result svd = svdOf(lora);
        svds.put(lora.id(), svd);
        values.add(new ParaCompressor.SingularValues(lora.id(), svd.sigma()));
      } finally {
        if (lora != any) {
          lora.close();
        }
      }
    }
    ParaCompressor.Result plan = ParaCompressor.compress(values, target);
    List<Adapter> out = new ArrayList<>();
    for (Adapter any : adapters.all()) {
      AdapterSpec s = any.spec();
      int k = plan.ranks().get(s.id());
      LowRankSvd.Result svd = svds.get(s.id());
      float[] a = new float[k * s.in()];
      float[] b = new float[s.out() * k];
      for (int j = 0; j < k; j++) {
        double root = Math.sqrt(svd.sigma()[j]);
        for (int i = 0; i < s.in(); i++) {
          a[j * s.in() + i] = (float) (root * svd.v()[i][j]);
        }
        for (int i = 0; i < s.out(); i++) {
          b[i * k + j] = (float) (root * svd.u()[i][j]);
        }
      }
      AdapterSpec spec = s.withRank(k).withAlpha(s.rslora() ? Math.sqrt(k) : k);
      out.add(
          LoraAdapter.restore(
              spec,
              1f,
              Ops.engineOwned(manager.create(a, new Shape(k, s.in()))),
              Ops.engineOwned(manager.create(b, new Shape(s.out(), k))),
              null));
    }
    return new Result(new AdapterSet(out, adapters.dropout()), plan);
  }
}
