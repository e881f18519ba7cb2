package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import dev.l1ra.core.data.Sample;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.llama.LlamaModel;
import dev.l1ra.model.loss.CausalLmLoss;
import java.io.Serializable;
import java.util.List;

/** Scores a model (with or without adapters) on tokenized samples: learned-token-weighted NLL. */
public interface Evaluator {

  /** Summed NLL and learned-token count; loss = nll/tokens, perplexity = exp(loss). */
  record Result(double nllSum, long tokens) implements Serializable {
    public double loss() {
      return nllSum / Math.max(1, tokens);
    }

    public double perplexity() {
      return Math.exp(loss());
    }

    public Result plus(Result o) {
      return new Result(nllSum + o.nllSum, tokens + o.tokens);
    }
  }

  Result evaluate(AdapterSet adapters);

  /** The scoring loop shared by local evaluation and Spark eval tasks. */
  static Result score(
      LlamaModel model, AdapterSet adapters, List<Sample> samples, int microBatch, int padId) {
    double nll = 0;
    long tokens = 0;
    for (HostBatch b : HostBatch.split(samples, microBatch, padId)) {
      try (NDScope scope = new NDScope()) {
        NDList t = b.targets(model.manager());
        NDArray logits = model.logits(b.toDevice(model.manager()), adapters, false);
        nll += CausalLmLoss.nllSum(logits, t.get(0), t.get(1)).getFloat();
        tokens += b.learned();
      }
    }
    return new Result(nll, tokens);
  }
}
