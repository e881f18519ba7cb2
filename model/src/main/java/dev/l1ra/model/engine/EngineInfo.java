package dev.l1ra.model.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/** The DJL engine this project runs on (PyTorch) and how devices are chosen. */
public final class EngineInfo {
  public static final String ENGINE = "PyTorch";

  private EngineInfo() {}

  public static Engine engine() {
    Engine e = Engine.getEngine(ENGINE);
    warnOnce();
    return e;
  }

  private static volatile boolean warned;
  private static volatile boolean cpuNoted;

  /**
   * MKL's dynamic threading (on by default) may run a GEMM on fewer threads when the machine is
   * busy, which changes the summation order: CPU runs are then not bitwise reproducible and a
   * resumed run drifts from the uninterrupted one. {@code MKL_DYNAMIC=FALSE} in the environment
   * (set by submit.sh, the Spark executor environment and the test build) turns it off; it must be
   * set before the native library loads.
   */
  private static void warnOnce() {
    if (!warned) {
      warned = true;
      if (!"false".equalsIgnoreCase(System.getenv("MKL_DYNAMIC"))) {
        LoggerFactory.getLogger(EngineInfo.class)
            .warn(
                "MKL_DYNAMIC is not FALSE: CPU results may differ from run to run in the last bits; export MKL_DYNAMIC=FALSE for bitwise-reproducible runs");
      }
    }
  }

  /** Sets the engine's intra-op threads ({@code n <= 0}: leave the engine's default). */
  public static void setThreads(int n) {
    if (n > 0) {
      engine(); // loads the native library the call goes to
      JniUtils.setNumThreads(n);
    }
  }

  /** DJL's version, for messages and reports. */
  public static String djlVersion() {
    String v = Engine.class.getPackage().getImplementationVersion();
    return v == null ? "0.36" : v;
  }

  /** The engine's libtorch version, e.g. 2.7.1 (loads the engine). */
  public static String libtorchVersion() {
    return engine().getVersion();
  }

  /** True when the engine has a bfloat16 NDArray type (DJL 0.36's PyTorch engine does not). */
  public static boolean supportsBf16() {
    for (DataType t : DataType.values()) {
      if (t.name().toLowerCase(Locale.ROOT).contains("bfloat16")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Resolves a device name: {@code auto} (first GPU the engine sees, else CPU), {@code cpu}, {@code
   * gpu} / {@code cuda} (GPU 0) or {@code gpu:N} / {@code cuda:N}.
   */
  public static Device device(String name) {
    String n = name == null ? "auto" : name.trim().toLowerCase(Locale.ROOT);
    if (n.equals("auto")) {
      if (engine().getGpuCount() > 0) {
        return Device.gpu();
      }
      if (!cpuNoted) {
        cpuNoted = true;
        LoggerFactory.getLogger(EngineInfo.class)
            .info("device auto: no GPU visible, using the CPU");
      }
      return Device.cpu();
    }
    if (n.equals("cpu")) {
      return Device.cpu();
    }
    String[] parts = n.split(":");
    if (parts[0].equals("gpu") || parts[0].equals("cuda")) {
      int id = parts.length > 1 ? parseId(name, parts[1]) : 0;
      int count = engine().getGpuCount();
      if (id >= count) {
        throw new IllegalArgumentException(
            "device \""
                + name
                + "\" asked for GPU "
                + id
                + " but the engine sees "
                + count
                + " GPU(s); a GPU needs the CUDA build of libtorch "
                + "2.7.1 (PYTORCH_LIBRARY_PATH, PYTORCH_VERSION=2.7.1, PYTORCH_FLAVOR=cu128;"
                + " see the README, Running on a cluster)");
      }
      return Device.gpu(id);
    }
    throw new IllegalArgumentException(
        "device \"" + name + "\" is not one of auto, cpu, gpu, gpu:N, cuda:N");
  }

  private static int parseId(String name, String id) {
    try {
      return Integer.parseInt(id);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "device \"" + name + "\" has a bad GPU index \"" + id + "\"");
    }
  }
}
