package dev.l1ra.model.testing;

import dev.l1ra.core.data.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Learnable token sequences for tests: a prompt of random tokens (labels -100) followed by a
 * response that repeats the prompt's first tokens shifted by one id, so a small model can learn it.
 */
public final class SyntheticSamples {
  private SyntheticSamples() {}

  public static List<Sample> make(long seed, int n, int vocab, int minLen, int maxLen) {
    Random rng = new Random(seed);
    List<Sample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int len = minLen + rng.nextInt(maxLen - minLen + 1);
      int prompt = Math.max(2, len / 2);
      int[] ids = new int[len];
      int[] labels = new int[len];
      for (int j = 0; j < len; j++) {
        ids[j] = j < prompt ? 3 + rng.nextInt(vocab - 4) : 3 + (ids[j - prompt] - 2) % (vocab - 4);
        labels[j] = j < prompt ? Sample.IGNORE : ids[j];
      }
      out.add(new Sample("s" + i, ids, labels, null, null));
    }
    return out;
  }
}
