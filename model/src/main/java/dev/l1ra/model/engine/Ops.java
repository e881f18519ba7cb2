package dev.l1ra.model.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Small tensor kernels and the few engine-specific calls, in one place. Every method returns a new
 * array owned by the first argument's manager (and the current NDScope).
 */
public final class Ops {
  private static final NDIndex ALL = new NDIndex("...");

  private Ops() {}

  /** SiLU: x·sigmoid(x). */
  public static NDArray silu(NDArray x) {
    return x.mul(ai.djl.nn.Activation.sigmoid(x));
  }

  /**
   * Casts with the cast recorded in the autograd graph (DJL's {@code toType} records none): the
   * values are copied into a fresh array of the target type, and PyTorch's copy backward casts the
   * gradient back.
   */
  public static NDArray castWithGrad(NDArray x, DataType type) {
    if (x.getDataType() == type) {
      return x;
    }
    NDArray out = x.getManager().zeros(x.getShape(), type, x.getDevice());
    out.set(ALL, x);
    return out;
  }

  /** Clears the accumulated gradient of a leaf (also when it holds NaN). */
  public static void zeroGrad(NDArray leaf) {
    JniUtils.zeroGrad((PtNDArray) leaf);
  }

  /** Whether autograd is currently recording (inside a GradientCollector). */
  public static boolean gradMode() {
    return JniUtils.isGradMode();
  }
}
