package dev.l1ra.job.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a run folder ({@code <run>/.lock}, {@link FileChannel#tryLock}), held while
 * a job trains the run and released when it ends (or its JVM dies: the operating system drops the
 * lock). The file says who holds it: pid, host and start time. A second job on the same run fails
 * at once naming the folder and the holder.
 *
 * <p>On shared file systems (NFS, DBFS, FUSE mounts) such locks may be advisory only or
 * unsupported; where the file system refuses locks the job goes on with a warning.
 */
public final class RunLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);

  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock {@code file} (its folder is created).
   *
   * @throws IllegalStateException naming the folder and the holder when another job holds it
   */
  public static RunLock acquire(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    FileChannel ch;
    try {
      Files.createDirectories(dir);
      ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the run's lock file " + file + ": " + e, e);
    }
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by another run in this JVM
    } catch (IOException e) {
      LOG.warn(
          "cannot lock {} ({}): the file system does not support locks (NFS, DBFS?), so nothing"
              + " stops a second job from writing run folder {} at the same time",
          file,
          e.getMessage(),
          dir);
      return new RunLock(ch, null);
    }
    if (lock == null) {
      String holder = holder(file);
      close(ch);
      throw new IllegalStateException(
          "run folder "
              + dir
              + " is in use by another job ("
              + holder
              + "; lock file "
              + file
              + "); wait for it to end or stop it, or give this run another run.name");
    }
    writeHolder(ch, file);
    return new RunLock(ch, lock);
  }

  /** Who holds a lock, as its file says. */
  private static String holder(Path file) {
    try {
      String s = Files.readString(file, StandardCharsets.UTF_8).strip();
      return s.isEmpty() ? "holder unknown" : s;
    } catch (IOException e) {
      return "holder unknown";
    }
  }

  private static void writeHolder(FileChannel ch, Path file) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = System.getenv().getOrDefault("HOSTNAME", "unknown host");
    }
    String text =
        "pid " + ProcessHandle.current().pid() + " on " + host + " since " + Instant.now() + "\n";
    try {
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
      ch.force(false);
    } catch (IOException e) {
      LOG.warn("could not write who holds {}: {}", file, e.toString());
    }
  }

  private static void close(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      LOG.debug("closing a lock file", e);
    }
  }

  /** Releases the lock (the file stays; the next job overwrites it). */
  @Override
  public void close() {
    try {
      if (lock != null) {
        lock.release();
      }
    } catch (IOException e) {
      LOG.debug("releasing a run lock", e);
    }
    close(channel);
  }
}
