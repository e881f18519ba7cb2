package dev.l1ra.core.data;

import java.util.SplittableRandom;

/**
 * Which samples form the global batch of each optimizer step: a seeded permutation per epoch,
 * consumed {@code globalBatch} at a time. A pure function of (seed, dataset size, step), so a
 * resumed run and every worker agree on it without state. The tail of an epoch that does not fill a
 * batch is dropped.
 */
public final class DataOrder {
  private final long seed;
  private final int size;
  private final int globalBatch;

  public DataOrder(long seed, int size, int globalBatch) {
    if (size < globalBatch) {
      throw new IllegalArgumentException(
          "the training set has "
              + size
              + " samples, fewer than one global batch of "
              + globalBatch
              + "; lower train.global_batch or add data");
    }
    this.seed = seed;
    this.size = size;
    this.globalBatch = globalBatch;
  }

  public int stepsPerEpoch() {
    return size / globalBatch;
  }

  public int epochOf(int step) {
    return step / stepsPerEpoch();
  }

  /** The permutation of sample indices for an epoch (Fisher–Yates with a per-epoch seed). */
  public int[] permutation(int epoch) {
    int[] p = new int[size];
    for (int i = 0; i < size; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    for (int i = size - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** Sample indices of the global batch of a step (0-based). */
  public int[] batch(int step) {
    int[] perm = permutation(epochOf(step));
    int start = (step % stepsPerEpoch()) * globalBatch;
    int[] out = new int[globalBatch];
    System.arraycopy(perm, start, out, 0, globalBatch);
    return out;
  }
}
