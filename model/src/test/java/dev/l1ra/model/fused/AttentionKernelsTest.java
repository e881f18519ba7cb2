package dev.l1ra.model.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.PlainAttention;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Choosing a kernel by name, and falling back when the fused one cannot load. */
class AttentionKernelsTest {
  @TempDir Path tmp;

  @Test
  void namesPickKernels() {
    assertInstanceOf(PlainAttention.class, AttentionKernels.create("plain", Device.cpu()));
    AttentionKernel auto = AttentionKernels.create(" Auto ", Device.cpu(), tmp);
    AttentionKernel fused = AttentionKernels.create("fused", Device.cpu(), tmp);
    try {
      assertInstanceOf(FusedAttention.class, auto, "fused by default where it loads");
      assertInstanceOf(FusedAttention.class, fused);
      assertEquals("fused", auto.name());
      assertEquals(2, countFiles(tmp), "both kernels share the cached archives (SDPA, SwiGLU)");
    } finally {
      AttentionKernels.closeQuietly(auto);
      AttentionKernels.closeQuietly(fused);
    }
  }

  @Test
  void unknownNameIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> AttentionKernels.create("flash", Device.cpu()));
    assertTrue(e.getMessage().contains("auto, fused, plain"), e.getMessage());
  }

  @Test
  void autoFallsBackToPlainWithAWarningNamingTheCause() throws IOException {
    Path notADir = Files.writeString(tmp.resolve("occupied"), "a file where the cache dir goes");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    AttentionKernel kernel;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      kernel = AttentionKernels.create("auto", Device.cpu(), notADir);
    } finally {
      System.setErr(old);
    }
    assertInstanceOf(PlainAttention.class, kernel);
    String log = err.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("WARN") && log.contains("occupied"), "warning names the cause: " + log);
  }

  @Test
  void explicitFusedFailsLoudly() throws IOException {
    Path notADir = Files.writeString(tmp.resolve("occupied"), "x");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> AttentionKernels.create("fused", Device.cpu(), notADir));
    assertTrue(e.getMessage().contains("fused attention is unavailable"), e.getMessage());
  }

  private static long countFiles(Path dir) {
    try (var s = Files.list(dir)) {
      return s.count();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
