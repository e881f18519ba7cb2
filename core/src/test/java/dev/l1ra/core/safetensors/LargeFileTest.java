package dev.l1ra.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and tensors beyond 2 GiB, on a sparse file so the test needs no real disk space. */
class LargeFileTest {
  @TempDir Path dir;

  @Test
  void tensorBeyondTwoGibReadsInChunksWithCorrectValues() throws IOException {
    long rows = 40_000;
    long cols = 16_000; // 40k x 16k F32 = 2.56e9 bytes > 2 GiB
    long bytes = rows * cols * 4;
    String header =
        "{\"small\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"big\":{\"dtype\":\"F32\",\"shape\":["
            + rows
            + ","
            + cols
            + "],\"data_offsets\":[8,"
            + (8 + bytes)
            + "]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    Path p = dir.resolve("big.safetensors");
    long dataStart = 8 + h.length;
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(dataStart + 8 + bytes); // sparse
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
      f.write(len.array());
      f.write(h);
      f.seek(dataStart + 8 + bytes - 4); // last element of "big"
      f.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(42.5f).array());
    }
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertEquals(bytes, f.info("big").byteLength());
      assertThrows(SafetensorsException.class, () -> f.bytes("big"), "one buffer cannot hold it");
      List<ByteBuffer> chunks = f.chunks("big", 1L << 30);
      assertTrue(chunks.size() >= 3);
      long total = 0;
      for (ByteBuffer c : chunks) {
        assertEquals(0, c.remaining() % (cols * 4), "chunks end on row boundaries");
        total += c.remaining();
      }
      assertEquals(bytes, total);
      ByteBuffer last = chunks.get(chunks.size() - 1);
      assertEquals(42.5f, last.getFloat(last.limit() - 4));
      assertEquals(0f, chunks.get(0).getFloat(0));
    }
  }
}
