package dev.l1ra.core.memory;

/**
 * Device memory available to one worker. An estimate fits when its peak plus a reserve is at most
 * the device's size. A GPU estimate already includes the CUDA runtime and the allocator's caching
 * ({@link MemoryEstimator#GPU_RUNTIME}); the reserve is a margin for the estimate's own error (a
 * fraction) and anything else on the device (a fixed part).
 *
 * @param deviceBytes the device's memory
 * @param fixedReserve bytes held back for the runtime
 * @param fraction share of the device held back for fragmentation, in [0, 1)
 */
public record Budget(long deviceBytes, long fixedReserve, double fraction) {
  /** Defaults: nothing fixed (the runtime is in the estimate), 5 % margin. */
  public static final long DEFAULT_RESERVE = 0;

  public static final double DEFAULT_FRACTION = 0.05;

  public Budget {
    if (deviceBytes <= 0) {
      throw new IllegalArgumentException("device memory must be > 0, got " + deviceBytes);
    }
    if (fixedReserve < 0 || !(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException(
          "reserve must be >= 0 and fraction in [0, 1), got " + fixedReserve + ", " + fraction);
    }
  }

  /** A device of {@code gib} GiB with the default reserve. */
  public static Budget ofGib(double gib) {
    return new Budget((long) (gib * (1L << 30)), DEFAULT_RESERVE, DEFAULT_FRACTION);
  }

  /** Bytes an estimate's peak may use. */
  public long usable() {
    return (long) (deviceBytes * (1 - fraction)) - fixedReserve;
  }

  public boolean fits(MemoryEstimate e) {
    return e.peak() <= usable();
  }
}
