package dev.l1ra.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A checkpoint split over several safetensors files with a {@code model.safetensors.index.json}
 * ({@code {"metadata": {...}, "weight_map": {tensor: file}}}). Shards are opened on first use.
 */
public final class ShardedCheckpoint implements TensorSource {
  public static final String INDEX = "model.safetensors.index.json";
  public static final String SINGLE = "model.safetensors";

  private final Path index;
  private final Map<String, String> weightMap;
  private final Map<String, SafetensorsFile> open = new LinkedHashMap<>();
  private final Map<String, String> metadata;

  private ShardedCheckpoint(Path index, Map<String, String> weightMap, Map<String, String> meta) {
    this.index = index;
    this.weightMap = weightMap;
    this.metadata = meta;
  }

  /**
   * Opens the weights of a Hugging Face model folder: the sharded index when present, else {@code
   * model.safetensors}.
   */
  public static TensorSource openModelDir(Path dir) {
    Path idx = dir.resolve(INDEX);
    if (Files.isRegularFile(idx)) {
      return openIndex(idx);
    }
    Path single = dir.resolve(SINGLE);
    if (Files.isRegularFile(single)) {
      return SafetensorsFile.open(single);
    }
    throw new SafetensorsException(
        "model folder "
            + dir
            + " has neither "
            + SINGLE
            + " nor "
            + INDEX
            + "; point the model path at a Hugging Face checkpoint folder (safetensors weights)");
  }

  /**
   * Checks the weights of a model folder without reading tensor data: every safetensors file opens
   * and its header parses, with every tensor's bytes within the file (a truncated or corrupt file
   * fails here, naming file and tensor). Cheap (headers only); run on the driver before Spark tasks
   * load the model.
   *
   * @throws SafetensorsException naming the file and what is wrong
   */
  public static void verifyModelDir(Path dir) {
    try (TensorSource source = openModelDir(dir)) {
      for (String name : source.names()) {
        source.info(name); // opens each shard once, parsing its header
      }
    }
  }

  /** Opens a sharded checkpoint from its index file and checks that every shard exists. */
  public static ShardedCheckpoint openIndex(Path indexFile) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(indexFile.toFile());
    } catch (IOException e) {
      throw new SafetensorsException(
          "sharded checkpoint index " + indexFile + " is not valid JSON: " + e.getMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new SafetensorsException(
          "sharded checkpoint index " + indexFile + " has no \"weight_map\" object");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    map.fields().forEachRemaining(e -> weightMap.put(e.getKey(), e.getValue().asText()));
    Path dir = indexFile.toAbsolutePath().getParent();
    for (String shard : new TreeSet<>(weightMap.values())) {
      if (!Files.isRegularFile(dir.resolve(shard))) {
        throw new SafetensorsException(
            "sharded checkpoint index "
                + indexFile
                + " names shard "
                + shard
                + ", which is missing");
      }
    }
    Map<String, String> meta = new LinkedHashMap<>();
    JsonNode m = root.get("metadata");
    if (m != null && m.isObject()) {
      m.fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
    }
    return new ShardedCheckpoint(
        indexFile, Collections.unmodifiableMap(weightMap), Collections.unmodifiableMap(meta));
  }

  private synchronized SafetensorsFile shardOf(String name) {
    String shard = weightMap.get(name);
    if (shard == null) {
      throw new SafetensorsException(
          "sharded checkpoint "
              + index
              + " has no tensor \""
              + name
              + "\"; "
              + NameHints.near(name, weightMap.keySet()));
    }
    SafetensorsFile f =
        open.computeIfAbsent(
            shard, s -> SafetensorsFile.open(index.toAbsolutePath().getParent().resolve(s)));
    if (f.find(name).isEmpty()) {
      throw new SafetensorsException(
          "sharded checkpoint "
              + index
              + " maps \""
              + name
              + "\" to "
              + shard
              + ", which lacks it");
    }
    return f;
  }

  @Override
  public Set<String> names() {
    return weightMap.keySet();
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    return weightMap.containsKey(name) ? Optional.of(shardOf(name).info(name)) : Optional.empty();
  }

  @Override
  public TensorInfo info(String name) {
    return shardOf(name).info(name);
  }

  @Override
  public List<ByteBuffer> chunks(String name, long maxChunkBytes) {
    return shardOf(name).chunks(name, maxChunkBytes);
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public synchronized void close() {
    open.values().forEach(SafetensorsFile::close);
    open.clear();
  }
}
