package dev.l1ra.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed-input case gives an exception naming the file (and the tensor when known). */
class MalformedSafetensorsTest {
  @TempDir Path dir;

  /** A file with the given header JSON and data bytes, header length written as given. */
  private Path file(String name, long headerLen, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLen).put(h);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private Path file(String name, String header, int dataBytes) throws IOException {
    return file(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
  }

  private static void assertNames(SafetensorsException e, Path file, String tensor) {
    assertTrue(
        e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
    if (tensor != null) {
      assertTrue(e.getMessage().contains(tensor), "message names the tensor: " + e.getMessage());
    }
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    Path p = file("long.safetensors", 1_000_000, "{}", 0);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, null);
    assertTrue(e.getMessage().contains("header length 1000000"));
  }

  @Test
  void fileShorterThanTheLengthPrefix() throws IOException {
    Path p = dir.resolve("tiny.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertNames(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p)), p, null);
  }

  @Test
  void invalidJsonHeader() throws IOException {
    Path p = file("json.safetensors", "{\"w\": {\"dtype\": \"F32\", ", 0);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, null);
    assertTrue(e.getMessage().contains("not valid JSON"));
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    Path p =
        file(
            "range.safetensors",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
            8);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, "w");
    assertTrue(e.getMessage().contains("out of range"));
  }

  @Test
  void overlappingOffsets() throws IOException {
    String h =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    Path p = file("overlap.safetensors", h, 12);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, "b");
    assertTrue(e.getMessage().contains("overlap"));
  }

  @Test
  void shapeTimesDtypeDiffersFromByteLength() throws IOException {
    Path p =
        file(
            "size.safetensors",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, "w");
    assertTrue(e.getMessage().contains("needs 12 bytes"));
  }

  @Test
  void unknownDtype() throws IOException {
    Path p =
        file(
            "dtype.safetensors",
            "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}",
            2);
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
    assertNames(e, p, "w");
    assertTrue(e.getMessage().contains("F8_E4M3"));
  }

  @Test
  void missingTensorNamesFileTensorAndNeighbours() throws IOException {
    Path p =
        file(
            "ok.safetensors",
            "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      SafetensorsException e =
          assertThrows(SafetensorsException.class, () -> f.info("model.norm.weigth"));
      assertNames(e, p, "model.norm.weigth");
      assertTrue(e.getMessage().contains("\"model.norm.weight\""), "suggests the close name");
    }
  }

  @Test
  void truncatedFileIsRejectedNotZeroFilled() throws IOException {
    Path good = dir.resolve("good.safetensors");
    new SafetensorsWriter()
        .put("w", SafetensorsWriter.Tensor.f32(new long[] {4}, new float[] {1, 2, 3, 4}))
        .write(good);
    byte[] all = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, Arrays.copyOf(all, all.length - 5));
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(cut));
    assertNames(e, cut, "w");
  }

  @Test
  void writerRoundTripIsExact() throws IOException {
    Path p = dir.resolve("rt.safetensors");
    float[] v = {1.5f, -2f, Float.MIN_VALUE, 3.25e-20f, Float.MAX_VALUE, -0f};
    new SafetensorsWriter()
        .metadata("format", "pt")
        .put("x", SafetensorsWriter.Tensor.f32(new long[] {2, 3}, v))
        .put("ids", SafetensorsWriter.Tensor.i64(new long[] {3}, new long[] {7, -100, 1L << 40}))
        .write(p);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertArrayEquals(v, f.floats("x"));
      assertArrayEquals(new long[] {7, -100, 1L << 40}, f.longs("ids"));
      assertArrayEquals(new long[] {2, 3}, f.info("x").shape());
      assertTrue(f.metadata().get("format").equals("pt"));
    }
  }
}
