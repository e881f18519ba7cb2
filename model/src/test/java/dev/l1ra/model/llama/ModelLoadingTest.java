package dev.l1ra.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.l1ra.core.config.Precision;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.hf.ModelConfigs;
import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.HalfFloats;
import dev.l1ra.core.safetensors.SafetensorsException;
import dev.l1ra.core.safetensors.SafetensorsFile;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import dev.l1ra.core.safetensors.ShardedCheckpoint;
import dev.l1ra.core.safetensors.TensorSource;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.testing.Expected;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints in other layouts and dtypes load to the same model; broken ones fail clearly. */
class ModelLoadingTest {
  static final Path LLAMA = Fixtures.model("tiny-llama3");
  @TempDir Path tmp;

  /** Copies the tiny model, rewriting each tensor's bytes (and dtype) with {@code convert}. */
  private Path rewrite(String name, DType dtype, UnaryOperator<ByteBuffer> convert, String skip)
      throws IOException {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(LLAMA.resolve("model.safetensors"))) {
      for (String n : f.names()) {
        if (!n.equals(skip)) {
          w.put(
              n, new SafetensorsWriter.Tensor(dtype, f.info(n).shape(), convert.apply(f.bytes(n))));
        }
      }
    }
    w.write(dir.resolve("model.safetensors"));
    return dir;
  }

  private static float[] logits(Path dir, Precision p) {
    try (LlamaModel m = LlamaModel.load(dir, Device.cpu(), p, new PlainAttention());
        Expected exp = new Expected(LLAMA.resolve("expected.safetensors"));
        NDScope scope = new NDScope()) {
      return m.logits(exp.batch(m.manager()), null, false)
          .toType(DataType.FLOAT32, false)
          .toFloatArray();
    }
  }

  private static float maxAbs(float[] a, float[] b) {
    float m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  private static ByteBuffer toBf16(ByteBuffer f32) {
    ByteBuffer src = f32.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = ByteBuffer.allocate(src.remaining() / 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < src.remaining() / 4; i++) {
      out.putShort(i * 2, HalfFloats.floatToBf16(src.getFloat(src.position() + i * 4)));
    }
    return out;
  }

  private static ByteBuffer bf16RoundedF32(ByteBuffer f32) {
    ByteBuffer bf = toBf16(f32);
    return HalfFloats.widenToF32(bf, DType.BF16);
  }

  @Test
  void bf16CheckpointIsConvertedOnTheHostExactly() throws IOException {
    Path bf16 = rewrite("bf16", DType.BF16, ModelLoadingTest::toBf16, null);
    Path rounded = rewrite("rounded", DType.F32, ModelLoadingTest::bf16RoundedF32, null);
    float[] a = logits(bf16, Precision.FP32);
    float[] b = logits(rounded, Precision.FP32);
    assertEquals(0f, maxAbs(a, b), "bf16 widened on the host = the same values stored as f32");
  }

  @Test
  void fp16ComputeIsCloseToFp32() {
    float[] a = logits(LLAMA, Precision.FP32);
    float[] b = logits(LLAMA, Precision.FP16);
    float err = maxAbs(a, b);
    System.out.printf("fp16 vs fp32 logits: max abs %.3g%n", err);
    assertTrue(err < 0.05f, "fp16 logits within 0.05 of fp32, got " + err);
  }

  @Test
  void shardedCheckpointGivesIdenticalLogits() throws IOException {
    Path dir = tmp.resolve("sharded");
    Files.createDirectories(dir);
    Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
    StringBuilder map = new StringBuilder();
    try (SafetensorsFile f = SafetensorsFile.open(LLAMA.resolve("model.safetensors"))) {
      List<String> names = new ArrayList<>(f.names());
      SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
      for (int i = 0; i < names.size(); i++) {
        String n = names.get(i);
        int s = i % 2;
        shards[s].put(n, new SafetensorsWriter.Tensor(DType.F32, f.info(n).shape(), f.bytes(n)));
        map.append(map.length() == 0 ? "" : ",")
            .append('"')
            .append(n)
            .append("\":\"model-0000")
            .append(s + 1)
            .append("-of-00002.safetensors\"");
      }
      shards[0].write(dir.resolve("model-00001-of-00002.safetensors"));
      shards[1].write(dir.resolve("model-00002-of-00002.safetensors"));
    }
    Files.writeString(
        dir.resolve(ShardedCheckpoint.INDEX), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
    assertEquals(0f, maxAbs(logits(LLAMA, Precision.FP32), logits(dir, Precision.FP32)));
  }

  @Test
  void chunkedReadsOfLargeTensorsGiveTheSameWeights() {
    ModelConfig c = ModelConfigs.load(LLAMA);
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        TensorSource src = ShardedCheckpoint.openModelDir(LLAMA)) {
      LlamaWeights whole = LlamaWeights.load(src, c, m, DataType.FLOAT32, LlamaWeights.CHUNK_BYTES);
      LlamaWeights pieces =
          LlamaWeights.load(src, c, m, DataType.FLOAT32, 1000); // embed in ~20 chunks
      assertEquals(whole.embed(), pieces.embed());
      assertEquals(
          whole.layers().get(1).projection(LinearKind.DOWN).weight(),
          pieces.layers().get(1).projection(LinearKind.DOWN).weight());
    }
  }

  @Test
  void aTensorTheModelNeedsButTheFileLacksIsNamed() throws IOException {
    Path dir = rewrite("missing", DType.F32, b -> b, "model.layers.1.mlp.up_proj.weight");
    SafetensorsException e =
        assertThrows(
            SafetensorsException.class,
            () -> LlamaModel.load(dir, Device.cpu(), Precision.FP32, new PlainAttention()));
    assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
    assertTrue(
        e.getMessage().contains(dir.resolve("model.safetensors").toString()), e.getMessage());
  }

  @Test
  void aWrongShapeNamesTheTensorAndTheConfig() throws IOException {
    Path dir = rewrite("shape", DType.F32, b -> b, null);
    String cfg =
        Files.readString(dir.resolve("config.json"))
            .replace("\"intermediate_size\": 160", "\"intermediate_size\": 128");
    Files.writeString(dir.resolve("config.json"), cfg);
    SafetensorsException e =
        assertThrows(
            SafetensorsException.class,
            () -> LlamaModel.load(dir, Device.cpu(), Precision.FP32, new PlainAttention()));
    assertTrue(
        e.getMessage().contains("mlp.down_proj.weight")
            || e.getMessage().contains("gate_proj.weight"),
        e.getMessage());
    assertTrue(e.getMessage().contains("config"), e.getMessage());
  }

  @Test
  void bf16PrecisionIsRefusedWithAHelpfulMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Precision.parse("bf16"));
    assertTrue(e.getMessage().contains("fp16"), e.getMessage());
  }
}
