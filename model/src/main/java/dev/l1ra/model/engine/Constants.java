package dev.l1ra.model.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Float32 scalar constants in engine memory, one per (device, value), kept for the life of the JVM
 * (a few dozen values: norm epsilons, exponents, attention and LoRA scalings).
 *
 * <p>Why they exist: DJL's scalar overloads ({@code mul(Number)}, {@code pow(Number)}, ...) wrap
 * the number in a tensor over a Java direct buffer and close that tensor right after the op, which
 * lets the garbage collector free the buffer. Autograd, however, saves the tensor when the op's
 * backward needs it (mul saves the other factor, pow its exponent), so a GC between forward and
 * backward makes backward read freed, possibly reused memory: wrong or non-finite gradients, rarely
 * and irreproducibly. A constant from here is engine-allocated, so autograd's reference keeps it
 * valid; on a GPU it is also uploaded once instead of on every op. The values are float32 0-d
 * tensors, exactly what the scalar overloads create, so results are bit for bit the same.
 */
final class Constants {
  private record Key(Device device, int bits) {}

  private static final Map<Key, NDArray> VALUES = new ConcurrentHashMap<>();
  private static final Map<Device, NDManager> MANAGERS = new ConcurrentHashMap<>();

  private Constants() {}

  /** The constant {@code value} on {@code like}'s device (float32, 0-d; never close it). */
  static NDArray of(NDArray like, float value) {
    Device device = like.getDevice();
    return VALUES.computeIfAbsent(
        new Key(device, Float.floatToIntBits(value)), k -> create(like, device, value));
  }

  /** A float32 0-d tensor in engine memory owned by {@code like}'s manager and current scope. */
  static NDArray owned(NDArray like, float value) {
    return Ops.engineOwned(like.getManager().create(value));
  }

  private static NDArray create(NDArray like, Device device, float value) {
    NDManager m =
        MANAGERS.computeIfAbsent(device, d -> like.getManager().getEngine().newBaseManager(d));
    // a clone: toType(same type, copy = true) returns an alias of the Java buffer in DJL 0.36
    NDArray c = Ops.engineOwned(m.create(value));
    NDScope.unregister(c); // lives as long as the pool, not the caller's scope
    return c;
  }
}
