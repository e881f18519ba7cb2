package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive's bytes, and that DJL's PyTorch engine loads and runs what we write. */
class TorchScriptArchiveTest {
  static final TorchScriptArchive AFFINE =
      TorchScriptArchive.module(
          "__torch__.Affine", "def forward(self, x: Tensor) -> Tensor:\n    return x * 2.0 + 1.0");

  @TempDir Path tmp;

  @Test
  void entriesAreStoredInOrderWithTheExpectedContents() throws IOException {
    byte[] zip = FusedAttention.ARCHIVE.bytes();
    List<String> names = new ArrayList<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        names.add(e.getName());
        assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
        byte[] data = in.readAllBytes(); // also checks the CRC
        switch (e.getName()) {
          case "archive/version":
            assertEquals("10\n", ascii(data));
            break;
          case "archive/byteorder":
            assertEquals("little", ascii(data));
            break;
          case "archive/constants.pkl":
            assertArrayEquals(new byte[] {(byte) 0x80, 2, ')', '.'}, data);
            break;
          case "archive/data.pkl":
            assertArrayEquals(
                expectedDataPickle("__torch__.l1ra", "ScaledDotProductAttention"), data);
            break;
          default:
            String code = new String(data, StandardCharsets.UTF_8);
            assertTrue(code.startsWith("class ScaledDotProductAttention(Module):\n"), code);
            assertTrue(code.contains("\n  training : bool\n"), code);
            assertTrue(code.contains("torch.scaled_dot_product_attention("), code);
        }
      }
    }
    assertEquals(
        List.of(
            "archive/data.pkl",
            "archive/code/__torch__/l1ra.py",
            "archive/constants.pkl",
            "archive/version",
            "archive/byteorder"),
        names);
  }

  @Test
  void recordDataIs64ByteAligned() {
    byte[] zip = FusedAttention.ARCHIVE.bytes();
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int offset = 0;
    int records = 0;
    while (b.getInt(offset) == 0x04034b50) {
      int size = b.getInt(offset + 18);
      int start = offset + 30 + b.getShort(offset + 26) + b.getShort(offset + 28);
      assertEquals(0, start % 64, "record " + records + " starts at " + start);
      assertEquals('F', zip[offset + 30 + b.getShort(offset + 26)], "padding is an FB record");
      offset = start + size;
      records++;
    }
    assertEquals(5, records);
  }

  @Test
  void bytesAreDeterministic() {
    assertArrayEquals(FusedAttention.ARCHIVE.bytes(), FusedAttention.ARCHIVE.bytes());
    TorchScriptArchive again =
        TorchScriptArchive.module(FusedAttention.CLASS_NAME, FusedAttention.SOURCE);
    assertArrayEquals(FusedAttention.ARCHIVE.bytes(), again.bytes());
    assertTrue(FusedAttention.ARCHIVE.bytes().length < 2048, "a small archive");
  }

  @Test
  void writeToReusesIdenticalFilesAndRepairsBrokenOnes() throws IOException {
    Path first = AFFINE.writeTo(tmp);
    assertEquals(first, AFFINE.writeTo(tmp));
    assertTrue(
        first.getFileName().toString().matches("Affine-[0-9a-f]{12}\\.pt"), first.toString());
    Files.write(first, new byte[] {1, 2, 3});
    assertArrayEquals(AFFINE.bytes(), Files.readAllBytes(AFFINE.writeTo(tmp)));
    Path other = FusedAttention.ARCHIVE.writeTo(tmp);
    assertNotEquals(first, other);
    try (var files = Files.list(tmp)) {
      assertEquals(2, files.count(), "no temporary files left behind");
    }
  }

  @Test
  void rejectsBadNames() {
    assertThrows(
        IllegalArgumentException.class, () -> TorchScriptArchive.module("Affine", "def f"));
    assertThrows(
        IllegalArgumentException.class,
        () -> TorchScriptArchive.module("__torch__.a-b.C", "def forward(self): pass"));
    assertThrows(
        IllegalArgumentException.class, () -> TorchScriptArchive.module("__torch__.C", "x = 1"));
  }

  @Test
  void djlLoadsTheArchiveAndGradientsFlowThroughIt() throws Exception {
    Path file = AFFINE.writeTo(tmp);
    assertEquals("archive/code/__torch__.py", AFFINE.codePath());
    try (Model model = Model.newInstance("affine", Device.cpu(), "PyTorch");
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      model.load(file);
      PtSymbolBlock block = assertInstanceOf(PtSymbolBlock.class, model.getBlock());
      assertTrue(Arrays.asList(JniUtils.getMethodNames(block)).contains("forward"));
      NDArray x = m.create(new float[] {1f, -2f, 3f});
      x.setRequiresGradient(true);
      NDArray y;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        y = block.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
        gc.backward(y.sum());
      }
      assertArrayEquals(new float[] {3f, -3f, 7f}, y.toFloatArray());
      assertArrayEquals(new float[] {2f, 2f, 2f}, x.getGradient().toFloatArray());
    }
  }

  @Test
  void theAttentionArchiveLoads() throws Exception {
    try (Model model = Model.newInstance("sdpa", Device.cpu(), "PyTorch")) {
      model.load(FusedAttention.ARCHIVE.writeTo(tmp));
      assertInstanceOf(PtSymbolBlock.class, model.getBlock());
    }
  }

  /**
   * What torch's pickler writes for a parameter-free module in training mode: PROTO 2, GLOBAL
   * qualifier/name, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, 'training', True, SETITEMS, BUILD, STOP.
   */
  static byte[] expectedDataPickle(String qualifier, String name) {
    String global = "c" + qualifier + "\n" + name + "\n";
    ByteBuffer b = ByteBuffer.allocate(64 + global.length()).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x80).put((byte) 2).put(global.getBytes(StandardCharsets.US_ASCII));
    b.put((byte) ')').put((byte) 0x81).put((byte) '}').put((byte) '(');
    b.put((byte) 'X').putInt(8).put("training".getBytes(StandardCharsets.US_ASCII));
    b.put((byte) 0x88).put((byte) 'u').put((byte) 'b').put((byte) '.');
    return Arrays.copyOf(b.array(), b.position());
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }
}
