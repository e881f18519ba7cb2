package dev.l1ra.model.fused;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A deterministic zip writer for small archives in the layout PyTorch's {@code
 * caffe2/serialize/inline_container.cc} (PyTorchStreamWriter) writes: every entry stored
 * (uncompressed), its data starting on a 64-byte boundary by padding the local header's extra field
 * with an {@code "FB"} record, a fixed timestamp (1980-01-01 00:00), no data descriptors and no
 * zip64 (archives here are a few KB). The reader (miniz) does not require the alignment; it is kept
 * so the files match what torch writes and could be memory-mapped.
 */
final class StoredZipWriter {
  static final int ALIGNMENT = 64;
  private static final int LOCAL_HEADER = 30;
  private static final int DOS_DATE_1980_01_01 = (1 << 5) | 1;
  private static final int VERSION = 20;

  private record Entry(byte[] name, long crc, int size, int offset) {}

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final List<Entry> entries = new ArrayList<>();

  /** Appends one stored entry. */
  StoredZipWriter add(String name, byte[] data) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    CRC32 crc = new CRC32();
    crc.update(data);
    int offset = out.size();
    byte[] extra = padding(offset, n.length);
    u32(0x04034b50);
    u16(VERSION); // version needed to extract
    u16(0); // flags
    u16(0); // method: stored
    u16(0); // time 00:00:00
    u16(DOS_DATE_1980_01_01);
    u32((int) crc.getValue());
    u32(data.length); // compressed size
    u32(data.length); // uncompressed size
    u16(n.length);
    u16(extra.length);
    out.writeBytes(n);
    out.writeBytes(extra);
    if (out.size() % ALIGNMENT != 0) {
      throw new IllegalStateException("entry " + name + " data is not aligned");
    }
    out.writeBytes(data);
    entries.add(new Entry(n, crc.getValue(), data.length, offset));
    return this;
  }

  /** Writes the central directory and end record; returns the whole archive. */
  byte[] finish() {
    int start = out.size();
    for (Entry e : entries) {
      u32(0x02014b50);
      u16(VERSION); // version made by
      u16(VERSION); // version needed
      u16(0);
      u16(0);
      u16(0);
      u16(DOS_DATE_1980_01_01);
      u32((int) e.crc());
      u32(e.size());
      u32(e.size());
      u16(e.name().length);
      u16(0); // extra (the padding lives in the local header only, as torch writes it)
      u16(0); // comment
      u16(0); // disk number
      u16(0); // internal attributes
      u32(0); // external attributes
      u32(e.offset());
      out.writeBytes(e.name());
    }
    int size = out.size() - start;
    u32(0x06054b50);
    u16(0); // this disk
    u16(0); // disk with the central directory
    u16(entries.size());
    u16(entries.size());
    u32(size);
    u32(start);
    u16(0); // comment
    return out.toByteArray();
  }

  /**
   * The local header's extra field: {@code 'F' 'B' len16} then {@code len} filler bytes, so that
   * the entry's data begins on an {@link #ALIGNMENT} boundary (as torch's getPadding does).
   */
  private static byte[] padding(int offset, int nameLength) {
    int start = offset + LOCAL_HEADER + nameLength + 4;
    int pad = (ALIGNMENT - start % ALIGNMENT) % ALIGNMENT;
    byte[] extra = new byte[4 + pad];
    extra[0] = 'F';
    extra[1] = 'B';
    extra[2] = (byte) pad;
    extra[3] = (byte) (pad >>> 8);
    Arrays.fill(extra, 4, extra.length, (byte) 'Z');
    return extra;
  }

  private void u16(int v) {
    out.write(v);
    out.write(v >>> 8);
  }

  private void u32(int v) {
    u16(v);
    u16(v >>> 16);
  }
}
