package dev.l1ra.core.lora;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

/**
 * How new adapter matrices are initialised. B always starts at zero (the adapted model equals the
 * base model at step 0). Values come from our own generator, seeded per (seed, tensor name), so
 * every executor builds identical adapters regardless of order or engine seed. Pure Java: the model
 * module puts the values into tensors; {@code lora.init} names one.
 */
public enum AdapterInit {
  /** PEFT's default: A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in). */
  KAIMING_UNIFORM,
  /** PEFT's "gaussian" and the L1RA reference: A ~ N(0, (1/r)²). */
  GAUSSIAN;

  /** Values of A [rank, in] for a tensor name, deterministic in (seed, name). */
  public float[] initA(long seed, String name, int rank, int in, int r0) {
    Random rng = rng(seed, name);
    float[] v = new float[rank * in];
    if (this == KAIMING_UNIFORM) {
      double bound = 1.0 / Math.sqrt(in);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
      }
    } else {
      double std = 1.0 / r0;
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (rng.nextGaussian() * std);
      }
    }
    return v;
  }

  /** A generator seeded from a run seed and a name (FNV-1a over the name, mixed with the seed). */
  public static Random rng(long seed, String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b;
      h *= 0x100000001b3L;
    }
    return new Random(h ^ (seed * 0x9E3779B97F4A7C15L));
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
