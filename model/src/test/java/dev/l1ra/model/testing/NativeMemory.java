package dev.l1ra.model.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set size of this process, from /proc/self/statm (Linux). */
public final class NativeMemory {
  private NativeMemory() {}

  /** Resident bytes now. */
  public static long residentBytes() {
    try {
      String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
      return Long.parseLong(f[1]) * 4096L;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/statm", e);
    }
  }
}
