package dev.l1ra.core.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;

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

  /**
   * A new empty temporary folder beside {@code target}; fill it, then {@link #replaceDirectory}.
   */
  public static Path tempDirectoryBeside(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
      return Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a folder beside " + target + ": " + e, e);
    }
  }

  /**
   * Moves a completed folder into place. An existing {@code target} is first renamed aside and
   * deleted only after the new one is in place, so a crash leaves either the old or the new.
   */
  public static void replaceDirectory(Path completed, Path target) {
    try {
      Path old = target.resolveSibling("." + target.getFileName() + ".old");
      deleteTree(old);
      if (Files.exists(target)) {
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(completed, target, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(old);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + completed + " to " + target + ": " + e, e);
    }
  }

  /** Deletes a file or folder tree; nothing happens when it does not exist. */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
