package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench-dp runs both modes on local[2] and prints its JSON line (what it contains, not how fast:
 * the benchmark is a program, its figures are in the README).
 */
class BenchDpCommandTest {
  private static JsonNode run(String... argv) throws Exception {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.dispatch(argv));
    } finally {
      System.setOut(out);
    }
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  @Test
  void syncAndRoundsPrintTheSplitPerStep() throws Exception {
    JsonNode sync =
        run("bench-dp", "--shape", "tiny", "--rank", "8", "--steps", "2", "--reduce", "tree");
    assertEquals(74752, sync.get("adapter_floats").asLong(), "the quickstart layout's size");
    assertEquals(2, sync.get("round_ms").size());
    for (String k :
        List.of("broadcast_ms", "tasks_ms", "transfer_ms", "merge_ms", "optimizer_ms")) {
      assertTrue(sync.get(k).asDouble() >= 0, k);
    }
    assertTrue(sync.get("ms_per_step").asDouble() > 0);
    JsonNode rounds =
        run(
            "bench-dp",
            "--shape",
            "tiny",
            "--rank",
            "4",
            "--mode",
            "rounds",
            "--round-steps",
            "4",
            "--payload",
            "fp16",
            "--partitions",
            "3",
            "--steps",
            "1",
            "--warmup",
            "0");
    assertEquals(4, rounds.get("round_steps").asInt());
    assertEquals("fp16", rounds.get("payload").asText());
    double round = rounds.get("round_ms").get(0).asDouble();
    assertEquals(round / 4, rounds.get("ms_per_step").asDouble(), 0.1);
    long n = rounds.get("adapter_floats").asLong();
    assertEquals(3 * 4 * n, rounds.get("bytes_per_round").get("broadcast").asLong());
    assertEquals(3 * 2 * n, rounds.get("bytes_per_round").get("up_per_task").asLong());
  }

  @Test
  void localClusterWithoutASparkHomeNamesTheScript() {
    assumeTrue(System.getenv("SPARK_HOME") == null, "the message is about a missing SPARK_HOME");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Main.dispatch(new String[] {"bench-dp", "--master", "local-cluster[2,1,1024]"}));
    assertTrue(e.getMessage().contains("scripts/spark-home.sh"), e.getMessage());
  }
}
