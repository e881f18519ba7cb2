package dev.l1ra.job.run;

import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.job.report.RunPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run folder claimed by this job for its whole life: locked ({@link RunLock}), emptied into
 * {@code <name>.old-<time>} for {@code --fresh} (a fresh run never mixes with an old one's
 * checkpoints, metrics or adapter), and cleared of temporary files that interrupted writes left.
 * Closing it releases the lock.
 */
public final class RunFolder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunFolder.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private final RunPaths paths;
  private final RunLock lock;

  private RunFolder(RunPaths paths, RunLock lock) {
    this.paths = paths;
    this.lock = lock;
  }

  /**
   * Locks the run folder; with {@code fresh} moves its contents aside; removes leftovers.
   *
   * @throws IllegalStateException when another job holds the folder
   */
  public static RunFolder claim(RunPaths paths, boolean fresh) {
    RunLock lock = RunLock.acquire(paths.lock());
    try {
      if (fresh) {
        moveAside(paths);
      }
      RunFolder f = new RunFolder(paths, lock);
      f.removeLeftovers();
      return f;
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** Deletes what interrupted writes left in the folder and its checkpoints (logged). */
  public void removeLeftovers() {
    for (Path dir : List.of(paths.dir(), paths.checkpoints())) {
      for (Path p : AtomicFiles.removeLeftovers(dir)) {
        LOG.info("removed {}, left by an interrupted write", p);
      }
    }
  }

  /** Everything but the lock moves to {@code <name>.old-<yyyyMMdd-HHmmss>} beside the folder. */
  private static void moveAside(RunPaths paths) {
    Path dir = paths.dir();
    List<Path> old = contents(dir);
    if (old.isEmpty()) {
      return;
    }
    Path aside = asideName(dir);
    try {
      Files.createDirectory(aside);
      for (Path p : old) {
        Files.move(p, aside.resolve(p.getFileName()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "--fresh: cannot move the earlier run's files from " + dir + " to " + aside + ": " + e,
          e);
    }
    LOG.info("--fresh: moved the earlier run's files from {} to {}", dir, aside);
  }

  private static List<Path> contents(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().equals(".lock")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list run folder " + dir + ": " + e, e);
    }
  }

  private static Path asideName(Path dir) {
    String base = dir.getFileName() + ".old-" + LocalDateTime.now().format(STAMP);
    Path p = dir.resolveSibling(base);
    for (int i = 2; Files.exists(p); i++) {
      p = dir.resolveSibling(base + "-" + i);
    }
    return p;
  }

  @Override
  public void close() {
    lock.close();
  }
}
