package dev.l1ra.data;

import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs rows and tokens processed, and the rate, every few seconds while the job runs. */
final class Progress implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
  private final ScheduledExecutorService timer;

  private Progress(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  static Progress start(LongAccumulator rows, LongAccumulator tokens) {
    long t0 = System.nanoTime();
    ScheduledExecutorService t =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread th = new Thread(r, "prep-progress");
              th.setDaemon(true);
              return th;
            });
    t.scheduleAtFixedRate(
        () -> {
          double s = (System.nanoTime() - t0) / 1e9;
          long n = rows.value();
          long k = tokens.value();
          if (n > 0) {
            LOG.info(
                String.format(
                    Locale.ROOT,
                    "prep: %,d rows, %,d tokens tokenized (%.0f rows/s, %.0f tokens/s)",
                    n,
                    k,
                    n / s,
                    k / s));
          }
        },
        5,
        5,
        TimeUnit.SECONDS);
    return new Progress(t);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
