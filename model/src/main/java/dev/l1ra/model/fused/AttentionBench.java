package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.AttentionMask;
import dev.l1ra.model.llama.PlainAttention;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Times forward + backward of one attention kernel and prints one JSON line. Run one kernel per JVM
 * so the peak RSS (VmHWM) belongs to it:
 *
 * <pre>
 * java -cp ... dev.l1ra.model.fused.AttentionBench plain|fused|fused-native|fused-repeat
 *     [B H KV T D] [iterations] [causal|padded] [device]
 * </pre>
 *
 * {@code fused} is the default kernel (grouped heads {@code AUTO}); {@code fused-native} and {@code
 * fused-repeat} force {@link FusedAttention.GroupedHeads#NATIVE} / {@code REPEAT}.
 */
public final class AttentionBench {
  private AttentionBench() {}

  public static void main(String[] args) {
    String kernelName = arg(args, 0, "fused");
    int[] dims = new int[5];
    int[] defaults = {4, 8, 2, 512, 64};
    for (int i = 0; i < 5; i++) {
      dims[i] = Integer.parseInt(arg(args, 1 + i, String.valueOf(defaults[i])));
    }
    int iterations = Integer.parseInt(arg(args, 6, "5"));
    String maskKind = arg(args, 7, "causal");
    Device device = EngineInfo.device(arg(args, 8, "auto"));
    System.out.println(run(kernelName, dims, iterations, maskKind, device));
  }

  static String run(String kernelName, int[] dims, int iterations, String maskKind, Device device) {
    int b = dims[0];
    int h = dims[1];
    int kv = dims[2];
    int t = dims[3];
    int d = dims[4];
    long rssStart = procStatusKb("VmRSS");
    AttentionKernel kernel = kernel(kernelName, device);
    try (NDManager m = NDManager.newBaseManager(device, EngineInfo.ENGINE)) {
      NDArray keep = maskKind.equals("padded") ? leftPadding(m, b, t) : null;
      AttentionMask mask = AttentionMask.build(m, b, t, keep, null, 0, DataType.FLOAT32);
      NDArray q = random(m, new Shape(b, h, t, d), 1);
      NDArray k = random(m, new Shape(b, kv, t, d), 2);
      NDArray v = random(m, new Shape(b, kv, t, d), 3);
      long rssInputs = procStatusKb("VmRSS");
      double[] ms = new double[iterations];
      for (int i = -2; i < iterations; i++) {
        long t0 = System.nanoTime();
        step(kernel, q, k, v, mask);
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Arrays.sort(ms);
      return String.format(
          Locale.ROOT,
          "{\"kernel\":\"%s\",\"device\":\"%s\",\"mask\":\"%s\",\"B\":%d,\"H\":%d,\"KV\":%d,"
              + "\"T\":%d,\"D\":%d,\"dtype\":\"fp32\",\"iterations\":%d,"
              + "\"fwd_bwd_ms_median\":%.1f,\"fwd_bwd_ms_min\":%.1f,"
              + "\"rss_start_mb\":%.0f,\"rss_with_inputs_mb\":%.0f,\"peak_rss_mb\":%.0f,"
              + "\"intra_op_threads\":\"%s\"}",
          kernelName,
          device,
          maskKind,
          b,
          h,
          kv,
          t,
          d,
          iterations,
          ms[ms.length / 2],
          ms[0],
          rssStart / 1024.0,
          rssInputs / 1024.0,
          procStatusKb("VmHWM") / 1024.0,
          System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
    } finally {
      AttentionKernels.closeQuietly(kernel);
    }
  }

  /** One forward + backward of sum(attention) with fresh leaf copies, scoped. */
  private static void step(
      AttentionKernel kernel, NDArray q0, NDArray k0, NDArray v0, AttentionMask mask) {
    try (NDScope scope = new NDScope()) {
      NDArray q = q0.duplicate();
      NDArray k = k0.duplicate();
      NDArray v = v0.duplicate();
      q.setRequiresGradient(true);
      k.setRequiresGradient(true);
      v.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getEngine(EngineInfo.ENGINE).newGradientCollector()) {
        gc.backward(kernel.attend(q, k, v, mask).sum());
      }
      v.getGradient().sum().getFloat(); // wait for the backward to finish
    }
  }

  private static AttentionKernel kernel(String name, Device device) {
    switch (name) {
      case "plain":
        return new PlainAttention();
      case "fused":
        return FusedAttention.load(device);
      case "fused-native":
        return fused(device, FusedAttention.GroupedHeads.NATIVE);
      case "fused-repeat":
        return fused(device, FusedAttention.GroupedHeads.REPEAT);
      default:
        throw new IllegalArgumentException(
            "kernel " + name + " is not plain, fused, fused-native, fused-repeat");
    }
  }

  private static FusedAttention fused(Device device, FusedAttention.GroupedHeads heads) {
    return FusedAttention.load(device, TorchScriptArchive.defaultCacheDir(), heads);
  }

  private static NDArray leftPadding(NDManager m, int b, int t) {
    int[] keep = new int[b * t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        keep[i * t + j] = j < i * t / (2 * b) ? 0 : 1; // row i: i·T/2B leading pads
      }
    }
    return m.create(keep, new Shape(b, t));
  }

  private static NDArray random(NDManager m, Shape shape, long seed) {
    Random r = new Random(seed);
    float[] x = new float[(int) shape.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return m.create(x, shape);
  }

  /** A kB field of /proc/self/status (VmRSS, VmHWM), or -1 off Linux. */
  static long procStatusKb(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  private static String arg(String[] args, int i, String fallback) {
    return args.length > i ? args[i] : fallback;
  }
}
