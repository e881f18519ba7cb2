package dev.l1ra.core.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes files so that readers see the old content or the new, never a half-written file. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes bytes to a temporary file beside {@code target}, then renames it over the target. */
  public static void write(Path target, byte[] bytes) {
    Path parent = target.toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, "." + target.getFileName(), ".tmp");
      try {
        Files.write(tmp, bytes);
        Files.move(
            tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e, e);
    }
  }

  public static void writeString(Path target, String text) {
    write(target, text.getBytes(StandardCharsets.UTF_8));
  }
}
