package dev.l1ra.model.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.HalfFloats;
import dev.l1ra.core.safetensors.SafetensorsException;
import dev.l1ra.core.safetensors.TensorInfo;
import dev.l1ra.core.safetensors.TensorSource;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frozen base weights of a Llama-family decoder, held on one device in the compute dtype and
 * owned by the manager passed to {@link #load}. Tensor names are Hugging Face's.
 */
public record LlamaWeights(
    ModelConfig config,
    NDArray embed,
    List<LayerWeights> layers,
    NDArray finalNorm,
    NDArray lmHead) {
  private static final Logger LOG = LoggerFactory.getLogger(LlamaWeights.class);

  /** Tensors larger than this are read in chunks and joined on the device. */
  static final long CHUNK_BYTES = 1L << 30;

  /**
   * Loads every tensor the model needs from a checkpoint, one at a time. On CPU an F32 checkpoint
   * loaded as FP32 is used in place from the memory-mapped file; other combinations are converted
   * (BF16 on the host, F16/F32 on the device).
   *
   * @throws SafetensorsException naming file and tensor when one is missing or has a wrong shape
   */
  public static LlamaWeights load(
      TensorSource source, ModelConfig c, NDManager manager, DataType dtype) {
    return load(source, c, manager, dtype, CHUNK_BYTES);
  }

  /**
   * As {@link #load(TensorSource, ModelConfig, NDManager, DataType)}, with a chunk size for reads.
   */
  static LlamaWeights load(
      TensorSource source, ModelConfig c, NDManager manager, DataType dtype, long chunkBytes) {
    long t0 = System.nanoTime();
    TensorReader r = new TensorReader(source, manager, dtype, chunkBytes);
    NDArray embed = r.read("model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
    List<LayerWeights> layers = new ArrayList<>();
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      Map<LinearKind, Linear> proj = new EnumMap<>(LinearKind.class);
      for (LinearKind k : LinearKind.values()) {
        String name = p + k.parent() + "." + k.hfName();
        NDArray w = r.read(name + ".weight", k.outFeatures(c), k.inFeatures(c));
        NDArray b = c.biased().contains(k) ? r.read(name + ".bias", k.outFeatures(c)) : null;
        proj.put(k, new Linear(w, b));
      }
      layers.add(
          fused(
              new LayerWeights(
                  r.read(p + "input_layernorm.weight", c.hiddenSize()),
                  r.read(p + "post_attention_layernorm.weight", c.hiddenSize()),
                  proj)));
    }
    NDArray norm = r.read("model.norm.weight", c.hiddenSize());
    NDArray head =
        c.tieWordEmbeddings() && source.find("lm_head.weight").isEmpty()
            ? embed
            : r.read("lm_head.weight", c.vocabSize(), c.hiddenSize());
    LOG.info(
        "loaded {} base tensors ({} parameters, {}) in {} ms",
        r.count,
        c.baseParameters(),
        dtype,
        (System.nanoTime() - t0) / 1_000_000);
    return new LlamaWeights(c, embed, List.copyOf(layers), norm, head);
  }

  /**
   * The layer with q|k|v and gate|up concatenated into one weight each (one GEMM per group); the
   * single projections become row views into them, so no weight is held twice.
   */
  static LayerWeights fused(LayerWeights w) {
    Map<LinearKind, Linear> proj = new EnumMap<>(w.projections());
    Linear qkv = fuse(proj, Projections.QKV);
    Linear gateUp = fuse(proj, Projections.GATE_UP);
    return new LayerWeights(w.inputNorm(), w.postAttentionNorm(), proj, qkv, gateUp);
  }

  private static Linear fuse(Map<LinearKind, Linear> proj, LinearKind[] kinds) {
    NDList ws = new NDList();
    NDList bs = new NDList();
    for (LinearKind k : kinds) {
      ws.add(proj.get(k).weight());
      if (proj.get(k).bias() != null) {
        bs.add(proj.get(k).bias());
      }
    }
    if (!bs.isEmpty() && bs.size() != kinds.length) {
      return null; // only some of the group biased: keep them separate
    }
    NDArray w = NDArrays.concat(ws, 0);
    NDArray b = bs.isEmpty() ? null : NDArrays.concat(bs, 0);
    long row = 0;
    for (LinearKind k : kinds) {
      Linear old = proj.get(k);
      long n = old.outFeatures();
      NDArray wv = w.get(new NDIndex(row + ":" + (row + n)));
      NDArray bv = b == null ? null : b.get(new NDIndex(row + ":" + (row + n)));
      old.weight().close();
      if (old.bias() != null) {
        old.bias().close();
      }
      proj.put(k, new Linear(wv, bv));
      row += n;
    }
    return new Linear(w, b);
  }

  public Device device() {
    return embed.getDevice();
  }

  public DataType dataType() {
    return embed.getDataType();
  }

  /** Reads named tensors, checking shapes, converting dtypes. */
  private static final class TensorReader {
    private final TensorSource source;
    private final NDManager manager;
    private final DataType dtype;
    private final long chunkBytes;
    int count;

    TensorReader(TensorSource source, NDManager manager, DataType dtype, long chunkBytes) {
      this.source = source;
      this.manager = manager;
      this.dtype = dtype;
      this.chunkBytes = chunkBytes;
    }

    NDArray read(String name, long... shape) {
      TensorInfo info = source.info(name);
      if (!Arrays.equals(info.shape(), shape)) {
        throw new SafetensorsException(
            "tensor \""
                + name
                + "\" has shape "
                + Arrays.toString(info.shape())
                + " but the model config needs "
                + Arrays.toString(shape)
                + "; does config.json belong to these weights?");
      }
      if (!info.dtype().isFloating()) {
        throw new SafetensorsException(
            "tensor \""
                + name
                + "\" has dtype "
                + info.dtype()
                + "; weights must be F32, F16 or BF16");
      }
      List<ByteBuffer> chunks = source.chunks(name, chunkBytes);
      NDList parts = new NDList();
      long rows = shape.length == 0 ? 1 : shape[0];
      long rowElems = info.numel() / Math.max(1, rows);
      for (ByteBuffer chunk : chunks) {
        long chunkRows = chunk.remaining() / info.dtype().bytes() / Math.max(1, rowElems);
        long[] s = shape.clone();
        if (s.length > 0) {
          s[0] = chunkRows;
        }
        parts.add(toDevice(chunk, info.dtype(), new Shape(s)));
      }
      count++;
      if (parts.size() == 1) {
        return parts.get(0);
      }
      NDArray joined = NDArrays.concat(parts, 0);
      parts.close();
      return joined;
    }

    private NDArray toDevice(ByteBuffer bytes, DType stored, Shape shape) {
      if (stored == DType.BF16) {
        // DJL 0.36 has no bf16 NDArray: widen on the host
        NDArray f32 = manager.create(HalfFloats.widenToF32(bytes, stored), shape, DataType.FLOAT32);
        return convert(f32);
      }
      DataType t = stored == DType.F16 ? DataType.FLOAT16 : DataType.FLOAT32;
      return convert(manager.create(bytes, shape, t));
    }

    private NDArray convert(NDArray a) {
      if (a.getDataType() == dtype) {
        return a;
      }
      NDArray c = a.toType(dtype, false);
      a.close();
      return c;
    }
  }
}
