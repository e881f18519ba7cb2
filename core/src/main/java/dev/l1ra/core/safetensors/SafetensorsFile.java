package dev.l1ra.core.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reader for one safetensors file on a memory-mapped {@link FileChannel}. The header is parsed and
 * validated when the file is opened; tensor bytes are mapped lazily, one tensor at a time, so files
 * larger than 2 GiB work and nothing is read that is not asked for.
 *
 * <p>Format: 8-byte little-endian header length N, N bytes of JSON, then the data section. See
 * https://github.com/huggingface/safetensors.
 */
public final class SafetensorsFile implements TensorSource {
  /** Headers beyond this size are refused as corrupt (the reference implementation uses 100 MB). */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /**
   * Opens and validates a safetensors file.
   *
   * @throws SafetensorsException naming the file (and tensor) for any malformed input
   */
  public static SafetensorsFile open(Path path) {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw SafetensorsException.of(path, "file does not exist");
    } catch (IOException e) {
      throw new SafetensorsException("cannot open safetensors file " + path + ": " + e, e);
    }
    try {
      return parse(path, channel);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static SafetensorsFile parse(Path path, FileChannel channel) {
    long fileSize;
    try {
      fileSize = channel.size();
      if (fileSize < 8) {
        throw SafetensorsException.of(
            path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
      }
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, len, 0);
      long headerLen = len.getLong(0);
      if (headerLen < 2 || headerLen > fileSize - 8 || headerLen > MAX_HEADER_BYTES) {
        throw SafetensorsException.of(
            path,
            "header length "
                + Long.toUnsignedString(headerLen)
                + " is beyond the file size "
                + fileSize
                + " (truncated or not a safetensors file)");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(channel, header, 8);
      String json = new String(header.array(), StandardCharsets.UTF_8);
      long dataStart = 8 + headerLen;
      return build(path, channel, json, dataStart, fileSize - dataStart);
    } catch (IOException e) {
      throw new SafetensorsException("cannot read safetensors file " + path + ": " + e, e);
    }
  }

  private static SafetensorsFile build(
      Path path, FileChannel channel, String json, long dataStart, long dataSize) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw SafetensorsException.of(
          path, "header is not valid JSON: " + e.getOriginalMessage() + " (file is corrupt)");
    }
    if (root == null || !root.isObject()) {
      throw SafetensorsException.of(path, "header is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        e.getValue()
            .fields()
            .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(e.getKey(), entry(path, e.getKey(), e.getValue(), dataSize));
    }
    checkOverlaps(path, tensors.values());
    return new SafetensorsFile(
        path,
        channel,
        dataStart,
        Collections.unmodifiableMap(tensors),
        Collections.unmodifiableMap(metadata));
  }

  private static TensorInfo entry(Path path, String name, JsonNode node, long dataSize) {
    if (!node.isObject()) {
      throw SafetensorsException.of(path, name, "header entry is not an object");
    }
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsets = node.get("data_offsets");
    if (dtypeNode == null || shapeNode == null || offsets == null) {
      throw SafetensorsException.of(
          path, name, "header entry needs dtype, shape and data_offsets; got " + node);
    }
    DType dtype;
    try {
      dtype = DType.parse(dtypeNode.asText());
    } catch (IllegalArgumentException e) {
      throw SafetensorsException.of(path, name, e.getMessage());
    }
    if (!shapeNode.isArray()) {
      throw SafetensorsException.of(path, name, "shape is not an array: " + shapeNode);
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (!shapeNode.get(i).canConvertToLong() || shape[i] < 0) {
        throw SafetensorsException.of(path, name, "invalid dimension in shape " + shapeNode);
      }
    }
    if (!offsets.isArray() || offsets.size() != 2) {
      throw SafetensorsException.of(path, name, "data_offsets must be [begin, end]: " + offsets);
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataSize) {
      throw SafetensorsException.of(
          path,
          name,
          "data_offsets ["
              + offsets.get(0)
              + ", "
              + offsets.get(1)
              + "] are out of range: the data section holds "
              + dataSize
              + " bytes (file truncated or corrupt)");
    }
    TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
    long expected;
    try {
      expected = info.expectedBytes();
    } catch (ArithmeticException e) {
      throw SafetensorsException.of(path, name, "shape " + shapeNode + " overflows");
    }
    if (expected != info.byteLength()) {
      throw SafetensorsException.of(
          path,
          name,
          "shape "
              + shapeNode
              + " x "
              + dtype
              + " needs "
              + expected
              + " bytes but data_offsets span "
              + info.byteLength());
    }
    return info;
  }

  private static void checkOverlaps(Path path, Collection<TensorInfo> infos) {
    List<TensorInfo> sorted = new ArrayList<>(infos);
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    TensorInfo prev = null;
    for (TensorInfo t : sorted) {
      if (prev != null && t.begin() < prev.end() && t.byteLength() > 0) {
        throw SafetensorsException.of(
            path,
            t.name(),
            "data_offsets ["
                + t.begin()
                + ", "
                + t.end()
                + "] overlap tensor \""
                + prev.name()
                + "\" ["
                + prev.begin()
                + ", "
                + prev.end()
                + "]");
      }
      if (t.byteLength() > 0) {
        prev = t;
      }
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer buf, long position)
      throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = channel.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += n;
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing more to do: the open already failed
    }
  }

  public Path path() {
    return path;
  }

  @Override
  public Set<String> names() {
    return tensors.keySet();
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw SafetensorsException.of(path, name, "no such tensor; " + NameHints.near(name, names()));
    }
    return t;
  }

  @Override
  public List<ByteBuffer> chunks(String name, long maxChunkBytes) {
    TensorInfo t = info(name);
    long total = t.byteLength();
    long[] shape = t.shape();
    long rowBytes = shape.length == 0 ? total : total / Math.max(1, shape[0]);
    long step = maxChunkBytes;
    if (rowBytes > 0 && rowBytes <= maxChunkBytes) {
      step = (maxChunkBytes / rowBytes) * rowBytes;
    }
    step -= step % t.dtype().bytes();
    List<ByteBuffer> out = new ArrayList<>();
    if (total == 0) {
      out.add(ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN));
      return out;
    }
    try {
      for (long off = 0; off < total; off += step) {
        long len = Math.min(step, total - off);
        ByteBuffer b = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + off, len);
        out.add(b.order(ByteOrder.LITTLE_ENDIAN));
      }
    } catch (IOException e) {
      throw SafetensorsException.of(path, name, "cannot map bytes: " + e);
    }
    return out;
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
  }
}
