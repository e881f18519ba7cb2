package dev.l1ra.model.train;

import dev.l1ra.core.data.Sample;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.llama.LlamaModel;
import java.util.ArrayList;
import java.util.List;

/** Gradients computed in this JVM from samples held in memory. */
public final class LocalGradients implements GradientSource {
  private final LlamaModel model;
  private final List<Sample> samples;
  private final int microBatch;
  private final int padId;
  private final boolean recompute;

  public LocalGradients(
      LlamaModel model, List<Sample> samples, int microBatch, int padId, boolean recompute) {
    this.model = model;
    this.samples = samples;
    this.microBatch = microBatch;
    this.padId = padId;
    this.recompute = recompute;
  }

  @Override
  public StepGradients compute(
      int step, int[] sampleIndices, AdapterSet adapters, double lossScale, long seed) {
    List<Sample> batch = new ArrayList<>(sampleIndices.length);
    long learned = 0;
    for (int i : sampleIndices) {
      batch.add(samples.get(i));
      learned += samples.get(i).learnedTokens();
    }
    GradientStep.Options o =
        new GradientStep.Options(Math.max(1, learned), lossScale, seed, recompute);
    GradientStep.Share s = GradientStep.share(model, adapters, batch, microBatch, padId, o);
    return new StepGradients(
        null, // in the parameters' .grad
        s.nllSum().getFloat(),
        s.learnedTokens(),
        s.inputTokens(),
        true);
  }

  @Override
  public int learnedTokens(int sampleIndex) {
    return samples.get(sampleIndex).learnedTokens();
  }

  @Override
  public int size() {
    return samples.size();
  }
}
