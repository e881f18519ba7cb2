package dev.l1ra.model.engine;

/** Derived seeds: a pure function of a parent seed and an index (SplitMix64 finaliser). */
public final class Seeds {
  private Seeds() {}

  /** A 31-bit seed for the engine generator from a seed and an index. */
  public static int mix(long seed, long i) {
    long z = seed + 0x9E3779B97F4A7C15L * (i + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (int) ((z ^ (z >>> 31)) & 0x7fffffff);
  }
}
