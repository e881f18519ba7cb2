package dev.l1ra.core.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file. Tensors are added in order and written on {@link #write(Path)} to a
 * temporary file beside the target, which is then renamed over it, so a crash never leaves a
 * half-written file behind.
 */
public final class SafetensorsWriter {

  /** One tensor to write: dtype, shape and little-endian bytes. */
  public record Tensor(DType dtype, long[] shape, ByteBuffer data) {
    public Tensor {
      shape = shape.clone();
      long need = 1;
      for (long d : shape) {
        need *= d;
      }
      need *= dtype.bytes();
      if (need != data.remaining()) {
        throw new IllegalArgumentException(
            "tensor of shape "
                + Arrays.toString(shape)
                + " "
                + dtype
                + " needs "
                + need
                + " bytes, got "
                + data.remaining());
      }
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    /** An F32 tensor from a float array. */
    public static Tensor f32(long[] shape, float[] values) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(values);
      return new Tensor(DType.F32, shape, b);
    }

    /** An I64 tensor from a long array. */
    public static Tensor i64(long[] shape, long[] values) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asLongBuffer().put(values);
      return new Tensor(DType.I64, shape, b);
    }
  }

  private final Map<String, Tensor> tensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter put(String name, Tensor tensor) {
    if (tensors.putIfAbsent(name, tensor) != null) {
      throw new IllegalArgumentException("tensor \"" + name + "\" added twice");
    }
    return this;
  }

  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Writes all tensors atomically (temporary file, then rename) to {@code target}. */
  public void write(Path target) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    List<ByteBuffer> data = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      ObjectNode node = header.putObject(e.getKey());
      node.put("dtype", t.dtype().name());
      ArrayNode shape = node.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      long len = t.data().remaining();
      node.putArray("data_offsets").add(offset).add(offset + len);
      offset += len;
      data.add(t.data().duplicate());
    }
    byte[] headerBytes = paddedHeader(header.toString());
    try {
      Path tmp = AtomicFiles.tempFileBeside(target);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        len.putLong(0, headerBytes.length);
        writeFully(ch, len);
        writeFully(ch, ByteBuffer.wrap(headerBytes));
        for (ByteBuffer b : data) {
          writeFully(ch, b);
        }
        ch.force(true);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(tmp);
        throw e;
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write safetensors file " + target + ": " + e, e);
    }
  }

  /** The header JSON padded with spaces to a multiple of 8 bytes, as the reference writer does. */
  private static byte[] paddedHeader(String json) {
    byte[] raw = json.getBytes(StandardCharsets.UTF_8);
    int padded = (raw.length + 7) / 8 * 8;
    byte[] out = new byte[padded];
    System.arraycopy(raw, 0, out, 0, raw.length);
    Arrays.fill(out, raw.length, padded, (byte) ' ');
    return out;
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
