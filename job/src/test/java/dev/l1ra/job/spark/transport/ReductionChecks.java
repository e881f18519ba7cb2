package dev.l1ra.job.spark.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The checks of {@link ReductionTest} on one Spark context; {@code main(serializer)} runs them in a
 * JVM of their own (Kryo needs Spark's --add-opens list, which the Spark 4 test JVM lacks).
 */
final class ReductionChecks {
  private ReductionChecks() {}

  public static void main(String[] args) {
    try (JavaSparkContext sc = context(args[0])) {
      fixedOrderSums(sc);
      largeAndHalfPrecision(sc);
    }
    System.out.println("reduction checks passed under " + args[0]);
  }

  static final int P = 5;
  static final double[] WEIGHTS = {3, 1, 4, 1, 5};

  /** Partition p's tensors: magnitudes from 1e-3 to 1e7, so the summation order shows. */
  static List<float[]> partial(int p) {
    SplittableRandom r = new SplittableRandom(100 + p);
    float[] a = new float[3001];
    float[] b = new float[17];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-3, 8)));
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) r.nextGaussian();
    }
    return List.of(a, b);
  }

  static JavaSparkContext context(String serializer) {
    SparkConf c =
        new SparkConf()
            .setMaster("local[2]")
            .setAppName("reduction-" + serializer)
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1");
    if (serializer.equals("kryo")) {
      c.set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .set("spark.kryo.classesToRegister", Payload.class.getName())
          .set("spark.kryo.registrationRequired", "true");
    }
    return new JavaSparkContext(c);
  }

  /** The partials as an RDD whose tasks sleep a pattern of times before answering. */
  static JavaRDD<Payload> partials(JavaSparkContext sc, PayloadDtype dtype, long sleepSeed) {
    return sc.parallelize(IntStream.range(0, P).boxed().toList(), P)
        .mapPartitionsWithIndex(
            (p, it) -> {
              Thread.sleep(new SplittableRandom(sleepSeed * 31 + p).nextInt(0, 60));
              double w = WEIGHTS[p];
              return List.of(PayloadCodec.encode(partial(p), dtype, w, p, 1)).iterator();
            },
            true);
  }

  static float[] flat(List<float[]> ts) {
    return PayloadCodecTest.flat(ts);
  }

  /** Σ wₚ·xₚ in partition order, or in the given group structure (tree), in fp32. */
  static float[] reference(int[][] groups) {
    List<float[]> sums = new ArrayList<>();
    for (int[] g : groups) {
      float[] acc = null;
      for (int p : g) {
        float[] x = flat(partial(p));
        acc = acc == null ? new float[x.length] : acc;
        for (int i = 0; i < x.length; i++) {
          acc[i] += (float) WEIGHTS[p] * x[i];
        }
      }
      sums.add(acc);
    }
    float[] out = new float[sums.get(0).length];
    for (float[] s : sums) {
      for (int i = 0; i < out.length; i++) {
        out[i] += s[i];
      }
    }
    return out;
  }

  /** Every plan gives the fixed-order sum, bit for bit, whatever order the tasks finish in. */
  static void fixedOrderSums(JavaSparkContext sc) {
    float[] sequential = reference(new int[][] {{0, 1, 2, 3, 4}});
    float[] reversed = reference(new int[][] {{4, 3, 2, 1, 0}});
    assertFalse(Arrays.equals(sequential, reversed), "the data must be order-sensitive");
    {
      TransportTimes times = new TransportTimes();
      sc.sc().register(times, "transport");
      for (long run = 0; run < 3; run++) {
        Reduced s =
            Reduction.sum(partials(sc, PayloadDtype.FP32, run), ReducePlan.scatter(3), times);
        assertArrayEquals(sequential, s.values(), "scatter, run " + run);
        assertEquals(14, s.weight());
        assertEquals(10, s.scalar(0)); // Σ p
        assertEquals(5, s.scalar(1));
        Reduced t = Reduction.sum(partials(sc, PayloadDtype.FP32, run), ReducePlan.tree(2), times);
        assertArrayEquals(reference(new int[][] {{0, 1}, {2, 3}, {4}}), t.values(), "tree");
        Reduced d =
            Reduction.sum(partials(sc, PayloadDtype.FP32, run), ReducePlan.direct(P), times);
        assertArrayEquals(sequential, d.values(), "direct, run " + run);
      }
      assertTrue(times.maxMs(TransportTimes.Phase.REDUCE_SUM) > 0);
      assertTrue(times.sumMs(TransportTimes.Phase.DRIVER_MERGE) > 0);
    }
  }

  /** An 80 MB payload broadcasts and returns; fp16 payloads sum through a reduce-scatter. */
  static void largeAndHalfPrecision(JavaSparkContext sc) {
    float[] big = new float[20_000_000]; // 80 MB: above Kryo's default 64 MiB buffer limit
    for (int i = 0; i < big.length; i += 1009) {
      big[i] = i;
    }
    {
      Broadcast<Payload> bc = sc.broadcast(PayloadCodec.encode(List.of(big), PayloadDtype.FP32, 1));
      List<Payload> echoed =
          sc.parallelize(List.of(0, 1), 2)
              .mapPartitionsWithIndex(
                  (p, it) -> {
                    float[] x = PayloadCodec.decode(bc.value());
                    List<float[]> ts = List.of(x);
                    return List.of(PayloadCodec.encode(ts, PayloadDtype.FP32, p + 1)).iterator();
                  },
                  true)
              .collect();
      assertEquals(2, echoed.get(1).weight());
      assertArrayEquals(big, PayloadCodec.decode(echoed.get(1)));
      Reduced h =
          Reduction.sum(
              partials(sc, PayloadDtype.FP16, 0).union(partials(sc, PayloadDtype.FP16, 1)),
              ReducePlan.scatter(4),
              null);
      float[] exact = reference(new int[][] {{0, 1, 2, 3, 4}});
      double[] magnitude = new double[exact.length];
      for (int p = 0; p < P; p++) {
        float[] x = flat(partial(p));
        for (int i = 0; i < x.length; i++) {
          magnitude[i] += 2 * WEIGHTS[p] * Math.abs(x[i]);
        }
      }
      for (int i = 0; i < exact.length; i++) {
        // fp16 rounding of every term and of the sum: relative to the terms' magnitudes
        assertEquals(2 * exact[i], h.values()[i], 0x1p-9 * magnitude[i] + 0.05, "at " + i);
      }
      bc.destroy();
    }
  }
}
