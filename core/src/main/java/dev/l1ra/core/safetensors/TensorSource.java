package dev.l1ra.core.safetensors;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Named tensors read lazily, one at a time: a single safetensors file or a sharded checkpoint.
 * Buffers are little-endian, read-only views of memory-mapped files and stay valid after {@link
 * #close()}.
 */
public interface TensorSource extends Closeable {

  /** Names of all tensors, in a stable order. */
  Set<String> names();

  /** Header entry of a tensor, or empty when the source lacks it. */
  Optional<TensorInfo> find(String name);

  /**
   * Header entry of a tensor that must exist.
   *
   * @throws SafetensorsException naming the source and the tensor when it is missing
   */
  TensorInfo info(String name);

  /**
   * The tensor's bytes as mapped chunks, each at most {@code maxChunkBytes} long and cut at
   * boundaries of the first dimension where possible, so a tensor over 2 GiB can be read.
   */
  List<ByteBuffer> chunks(String name, long maxChunkBytes);

  /** The tensor's bytes as one buffer; fails for tensors over 2 GiB (use {@link #chunks}). */
  default ByteBuffer bytes(String name) {
    List<ByteBuffer> parts = chunks(name, Integer.MAX_VALUE - 8);
    if (parts.size() != 1) {
      throw new SafetensorsException(
          "tensor \"" + name + "\" is larger than 2 GiB; read it in chunks");
    }
    return parts.get(0);
  }

  /** Reads a floating-point tensor (F32, F16 or BF16) into a float array, converting exactly. */
  default float[] floats(String name) {
    TensorInfo info = info(name);
    if (!info.dtype().isFloating()) {
      throw new SafetensorsException(
          "tensor \"" + name + "\" has dtype " + info.dtype() + ", not a floating-point type");
    }
    return HalfFloats.toFloatArray(bytes(name), info.dtype());
  }

  /** Reads an integer tensor (I64 or I32) into a long array. */
  default long[] longs(String name) {
    TensorInfo info = info(name);
    ByteBuffer b = bytes(name);
    long[] out = new long[Math.toIntExact(info.numel())];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          switch (info.dtype()) {
            case I64 -> b.getLong(i * 8);
            case I32 -> b.getInt(i * 4);
            default ->
                throw new SafetensorsException(
                    "tensor \"" + name + "\" has dtype " + info.dtype() + ", not I64 or I32");
          };
    }
    return out;
  }

  /** Free-form {@code __metadata__} of the source (empty map when absent). */
  Map<String, String> metadata();

  @Override
  void close();
}
