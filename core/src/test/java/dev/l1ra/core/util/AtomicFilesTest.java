package dev.l1ra.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.safetensors.DType;
import dev.l1ra.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written through a temporary name get the permissions any new file of this process gets (the
 * umask decides, not the temporary-file API's owner-only default), and the names an interrupted
 * write leaves behind are recognised and removed, nothing else.
 */
class AtomicFilesTest {
  @TempDir Path dir;

  /** What a plain new file and folder get here (the umask applied to 0666 / 0777). */
  private Set<PosixFilePermission> probeFile() throws IOException {
    return Files.getPosixFilePermissions(Files.createFile(dir.resolve("probe-file")));
  }

  private Set<PosixFilePermission> probeDir() throws IOException {
    return Files.getPosixFilePermissions(Files.createDirectory(dir.resolve("probe-dir")));
  }

  @Test
  void writtenFilesAndFoldersHonourTheUmask() throws IOException {
    Set<PosixFilePermission> file = probeFile();
    Set<PosixFilePermission> folder = probeDir();
    AtomicFiles.writeString(dir.resolve("report.json"), "{}");
    assertEquals(file, Files.getPosixFilePermissions(dir.resolve("report.json")), "report.json");

    Path target = dir.resolve("adapter");
    Path tmp = AtomicFiles.tempDirectoryBeside(target);
    new SafetensorsWriter()
        .put("x", new SafetensorsWriter.Tensor(DType.F32, new long[] {1}, ByteBuffer.allocate(4)))
        .write(tmp.resolve("adapter_model.safetensors"));
    AtomicFiles.replaceDirectory(tmp, target);
    assertEquals(folder, Files.getPosixFilePermissions(target), "the renamed folder");
    assertEquals(
        file,
        Files.getPosixFilePermissions(target.resolve("adapter_model.safetensors")),
        "a safetensors file");
  }

  @Test
  void leftoversOfInterruptedWritesAreRemovedAndNothingElse() throws IOException {
    List<String> leftovers =
        List.of(
            ".adapter.tmp-3k2j1",
            ".adapter.tmp8812345", // written by older versions
            ".adapter.old",
            ".report.json.tmp-9x",
            ".report.json5512.tmp",
            ".prepared.old-1733471000000",
            ".step-000004.tmp-abc");
    List<String> kept =
        List.of(".lock", "adapter", "metrics.csv", "run.old-20261206-101500", "step-000004");
    for (String n : leftovers) {
      Files.createDirectories(dir.resolve(n).resolve("inner"));
    }
    for (String n : kept) {
      Files.createDirectories(dir.resolve(n));
    }
    List<Path> removed = AtomicFiles.removeLeftovers(dir);
    assertEquals(leftovers.size(), removed.size(), "removed: " + removed);
    leftovers.forEach(n -> assertFalse(Files.exists(dir.resolve(n)), n));
    kept.forEach(n -> assertTrue(Files.exists(dir.resolve(n)), n));
  }
}
