package dev.l1ra.core.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes files so that readers see the old content or the new, never a half-written file. Temporary
 * files and folders are named {@code .<target>.tmp-<random>} beside their target and are created
 * with the default permissions (the process's umask applies, as for any file it writes; {@link
 * Files#createTempFile} would make them owner-only, and the rename would keep that). A crash can
 * leave such names, and {@code .<target>.old} folders, behind: {@link #removeLeftovers} clears
 * them.
 */
public final class AtomicFiles {
  /** Names this class (and data-prep's output) leave behind when a process dies mid-write. */
  private static final Pattern LEFTOVER = Pattern.compile("\\..+\\.(tmp|old)[-\\w]*");

  private AtomicFiles() {}

  /** Writes bytes to a temporary file beside {@code target}, then renames it over the target. */
  public static void write(Path target, byte[] bytes) {
    try {
      Path tmp = tempFileBeside(target);
      try {
        try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
          out.write(bytes);
        }
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
   * A new empty file {@code .<target>.tmp-<random>} beside {@code target} (parents created), with
   * the permissions a plain new file gets; fill it, then move it over the target.
   */
  public static Path tempFileBeside(Path target) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    while (true) {
      try {
        return Files.createFile(parent.resolve(tempName(target)));
      } catch (FileAlreadyExistsException e) {
        // another name
      }
    }
  }

  /**
   * A new empty temporary folder beside {@code target}; fill it, then {@link #replaceDirectory}.
   */
  public static Path tempDirectoryBeside(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
      while (true) {
        try {
          return Files.createDirectory(parent.resolve(tempName(target)));
        } catch (FileAlreadyExistsException e) {
          // another name
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a folder beside " + target + ": " + e, e);
    }
  }

  private static String tempName(Path target) {
    long r = ThreadLocalRandom.current().nextLong();
    return "." + target.getFileName() + ".tmp-" + Long.toUnsignedString(r, 36);
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

  /** Whether a file name is one a write interrupted by a crash leaves behind. */
  public static boolean isLeftover(String name) {
    return LEFTOVER.matcher(name).matches();
  }

  /**
   * Deletes what interrupted writes left directly in {@code dir} ({@link #isLeftover}): only call
   * it while no other process writes there (e.g. under the run's lock).
   *
   * @return what was removed
   */
  public static List<Path> removeLeftovers(Path dir) {
    List<Path> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return removed;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> isLeftover(p.getFileName().toString())).sorted().toList()) {
        deleteTree(p);
        removed.add(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot remove temporary files in " + dir + ": " + e + "; delete them by hand", e);
    }
    return removed;
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
