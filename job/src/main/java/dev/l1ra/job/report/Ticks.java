package dev.l1ra.job.report;

import java.util.Locale;

/**
 * Axis ticks at round values: steps of 1, 2 or 5 × 10^k, the first and last tick enclosing the
 * data, labels with as many decimals as the step needs (0, 50, 100; 3.0, 3.5, 4.0).
 */
final class Ticks {
  private Ticks() {}

  /**
   * About {@code target} round ticks from at most {@code lo} to at least {@code hi}. A flat range
   * (lo = hi) is widened around its value.
   */
  static double[] nice(double lo, double hi, int target) {
    if (!(hi > lo)) {
      double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= pad;
      hi += pad;
    }
    double step = step((hi - lo) / Math.max(1, target - 1));
    long first = (long) Math.floor(lo / step + 1e-9);
    long last = (long) Math.ceil(hi / step - 1e-9);
    int decimals = decimals(step);
    double[] t = new double[(int) (last - first + 1)];
    for (int i = 0; i < t.length; i++) {
      t[i] = round((first + i) * step, decimals);
    }
    return t;
  }

  /** The round step (1, 2 or 5 × 10^k) nearest above-or-near {@code raw}. */
  static double step(double raw) {
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / p;
    double n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return n * p;
  }

  /** A tick's label with the decimals its axis's step needs. */
  static String label(double v, double[] ticks) {
    double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
    int d = decimals(step);
    if (Math.abs(v) < step * 1e-6) {
      v = 0; // no "-0.0"
    }
    return String.format(Locale.ROOT, "%." + d + "f", v);
  }

  private static int decimals(double step) {
    return (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  }

  private static double round(double v, int decimals) {
    double p = Math.pow(10, decimals);
    return Math.round(v * p) / p;
  }
}
