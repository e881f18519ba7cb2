package dev.l1ra.data;

import java.nio.charset.StandardCharsets;

/** Deterministic hashes that do not depend on the JVM, the partitioning or the run. */
public final class Hashes {
  private Hashes() {}

  /** 64-bit FNV-1a over UTF-8 bytes. */
  public static long fnv64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** A uniform number in [0, 1) from a salt and an id: the split bucket of a row. */
  public static double unit(String salt, String id) {
    long h = fnv64(salt + '\u0000' + id);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }
}
