package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory command as users call it: its last line is one JSON object. */
class MemoryCommandTest {
  static final String QUICKSTART = PresetsTest.CONF.resolve("quickstart.yaml").toString();

  /** Runs {@code memory} and returns its last output line, parsed. */
  private static JsonNode memory(String... argv) throws IOException {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, MemoryCommand.run(argv));
    } finally {
      System.setOut(out);
    }
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  @Test
  void aConfigWithoutADeviceSizeIsEstimatedWithoutAVerdict() throws IOException {
    JsonNode n = memory(QUICKSTART, "--shape", "tiny");
    assertTrue(n.get("peak_bytes").asLong() > n.get("weights_bytes").asLong(), n.toString());
    assertFalse(n.has("fits"), "no device size, no verdict: " + n);
  }

  @Test
  void aDeviceSizeGivesAVerdictAndTheLargestSettingsThatFit() throws IOException {
    JsonNode big = memory(QUICKSTART, "--shape", "tiny", "--memory-gib", "80");
    assertTrue(big.get("fits").asBoolean(), big.toString());
    assertTrue(big.get("max_micro_batch").asInt() >= 1, big.toString());
    JsonNode small =
        memory(QUICKSTART, "--shape", "llama3-8b", "--seq", "1024", "--memory-gib", "8");
    assertFalse(small.get("fits").asBoolean(), "8B fp32 weights alone exceed 8 GiB: " + small);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> memory(QUICKSTART, "--shape", "tiny", "--memory-gib", "lots"));
    assertTrue(e.getMessage().contains("--memory-gib"), e.getMessage());
  }
}
