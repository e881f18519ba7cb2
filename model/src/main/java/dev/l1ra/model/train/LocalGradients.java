package dev.l1ra.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
    for (int i : sampleIndices) {
      batch.add(samples.get(i));
    }
    List<HostBatch> micro = microBatches(batch, microBatch, padId);
    long learned = micro.stream().mapToLong(HostBatch::learned).sum();
    long input = batch.stream().mapToLong(Sample::length).sum();
    NDManager scope = model.manager();
    NDArray nll =
        GradientStep.accumulate(
            scope,
            model,
            adapters,
            micro,
            new GradientStep.Options(Math.max(1, learned), lossScale, seed, recompute));
    return new StepGradients(TrainOptimizer.accumulated(adapters), nll.getFloat(), learned, input);
  }

  /** Splits samples, in order, into collated micro-batches of at most {@code size} rows. */
  public static List<HostBatch> microBatches(List<Sample> samples, int size, int padId) {
    List<HostBatch> out = new ArrayList<>();
    for (int i = 0; i < samples.size(); i += size) {
      out.add(HostBatch.collate(samples.subList(i, Math.min(samples.size(), i + size)), padId));
    }
    return out;
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
