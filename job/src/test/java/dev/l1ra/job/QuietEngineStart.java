package dev.l1ra.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.model.engine.EngineInfo;

/** Starts the engine and computes on the CPU, as a CPU run does (QuietCpuRunTest's child). */
public final class QuietEngineStart {
  private QuietEngineStart() {}

  public static void main(String[] args) {
    Device d = EngineInfo.device(args.length > 0 ? args[0] : "auto");
    try (NDManager m = NDManager.newBaseManager(d, EngineInfo.ENGINE)) {
      System.out.println("sum " + m.ones(new Shape(2, 2)).sum().getFloat());
    }
  }
}
