package dev.l1ra.model.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * Small tensor kernels and the few engine-specific calls, in one place. Every method returns a new
 * array owned by the first argument's manager (and the current NDScope).
 */
public final class Ops {
  private static final NDIndex ALL = new NDIndex("...");

  private Ops() {}

  /** SiLU: x·sigmoid(x). */
  public static NDArray silu(NDArray x) {
    return x.mul(Activation.sigmoid(x));
  }

  /**
   * x·s with s from the engine-owned constant pool. Use this (and {@link #add}, {@link #pow})
   * instead of DJL's {@code mul(Number)} wherever autograd may record the op: DJL backs the number
   * with a Java buffer that autograd can outlive (see {@link Constants}). For values that change
   * every step, use {@link #mulOnce}.
   */
  public static NDArray mul(NDArray x, double s) {
    return x.mul(Constants.of(x, (float) s));
  }

  /**
   * The pooled float32 0-d constant {@code value} on {@code like}'s device (engine-owned, never
   * close it): the operand {@link #mul}, {@link #add} and {@link #pow} use, for callers that pass
   * it to a fused kernel instead.
   */
  public static NDArray constant(NDArray like, float value) {
    return Constants.of(like, value);
  }

  /** x + s, s from the constant pool (see {@link #mul}). */
  public static NDArray add(NDArray x, double s) {
    return x.add(Constants.of(x, (float) s));
  }

  /** x^e, e from the constant pool (see {@link #mul}). */
  public static NDArray pow(NDArray x, double e) {
    return x.pow(Constants.of(x, (float) e));
  }

  /**
   * x·s for a value used once (a per-step loss scale): s is an engine-owned scalar in the current
   * scope, so autograd may save it safely, and the pool does not grow with every value.
   */
  public static NDArray mulOnce(NDArray x, double s) {
    NDArray scalar = Constants.owned(x, (float) s);
    return x.mul(scalar);
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

  /**
   * Moves an array made from Java data into engine-allocated memory. Arrays built from Java buffers
   * (zero-copy on CPU) sit at whatever alignment the JVM gave them, and the CPU BLAS picks
   * different kernels, with different rounding, for different alignments; parameters and optimizer
   * state therefore live in engine memory, which makes runs (and resumed runs) reproducible bit for
   * bit. The input is closed.
   */
  public static NDArray engineOwned(NDArray javaBacked) {
    NDArray copy = javaBacked.duplicate();
    javaBacked.close();
    return copy;
  }

  /**
   * Runs {@code f} in its own NDScope and keeps only its result, which moves to the enclosing
   * scope. Java handles would otherwise keep every intermediate tensor alive until the step ends;
   * closing them as soon as a layer is done lets the engine free what autograd does not need (saved
   * tensors live on in the graph), so memory follows PyTorch's own lifetime rules.
   */
  public static NDArray scoped(Supplier<NDArray> f) {
    NDArray out;
    try (NDScope s = new NDScope()) {
      out = f.get();
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /** Clears the accumulated gradient of a leaf (also when it holds NaN). */
  public static void zeroGrad(NDArray leaf) {
    JniUtils.zeroGrad((PtNDArray) leaf);
  }
}
