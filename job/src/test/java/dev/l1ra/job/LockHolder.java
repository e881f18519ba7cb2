package dev.l1ra.job;

import dev.l1ra.job.run.RunLock;
import java.io.IOException;
import java.nio.file.Path;

/** A child process that holds a run's lock until it is killed or its stdin closes. */
final class LockHolder {
  private LockHolder() {}

  public static void main(String[] args) throws IOException {
    try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
      System.out.println("locked");
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold until stdin closes
      }
    }
  }
}
