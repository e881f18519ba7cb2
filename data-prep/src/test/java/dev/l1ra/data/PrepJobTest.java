package dev.l1ra.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.config.PrepSection;
import dev.l1ra.core.config.PrepSection.Format;
import dev.l1ra.core.hf.ChatFormat;
import dev.l1ra.data.sample.SampleGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job on local[2]: bad rows quarantined with reasons, exact stats, deterministic output.
 */
class PrepJobTest {
  static SparkSession spark;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    spark =
        SparkSessions.create("prep-test", "local[2]", Map.of("spark.sql.shuffle.partitions", "4"));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private PrepSection config(
      Path input, Path out, String mode, double maxRejected, int seqLen, int maxChars) {
    return new PrepSection(
        input.toString(),
        input.toString().endsWith(".parquet") ? Format.PARQUET : Format.JSONL,
        Map.of(),
        tokenizer().toString(),
        ChatFormat.LLAMA3,
        null,
        seqLen,
        PrepSection.Mode.valueOf(mode.toUpperCase(Locale.ROOT)),
        maxChars,
        maxRejected,
        0.2,
        0.0,
        "l1ra",
        2,
        1.0,
        out.toString());
  }

  private Path tokenizer() {
    Path t = dir.resolve("tok");
    try {
      Files.createDirectories(t);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    CharTokenizer.write(t);
    return t;
  }

  private static String line(String id, String sys, String q, String r) {
    return String.format(
        "{\"id\":\"%s\",\"system_prompt\":\"%s\",\"question\":\"%s\",\"response\":\"%s\"}",
        id, sys, q, r);
  }

  /** 20 good rows and one row of each bad kind. */
  private Path mixed() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lines.add(
          line(
              "good-" + i,
              i % 2 == 0 ? "" : "Be brief.",
              "What is " + i + " + 1?",
              String.valueOf(i + 1)));
    }
    lines.add("{\"id\": \"bad-json\", \"question\": ");
    lines.add("{\"id\":\"bad-missing-q\",\"system_prompt\":\"\",\"response\":\"x\"}");
    lines.add(line("bad-empty-r", "", "Say nothing.", "  "));
    lines.add("{\"id\":\"bad-type\",\"system_prompt\":\"\",\"question\":17,\"response\":\"x\"}");
    lines.add(line("good-3", "", "A duplicate id with other text?", "yes"));
    lines.add(line("bad-control", "", "bell \\u0007 here", "ok"));
    lines.add(line("bad-long", "", "x".repeat(300), "ok"));
    lines.add(line("bad-no-learned", "", "y".repeat(150), "ok"));
    for (String l : lines) {
      b.writeBytes((l + "\n").getBytes(StandardCharsets.UTF_8));
    }
    b.writeBytes(
        "{\"id\":\"bad-utf8\",\"system_prompt\":\"\",\"question\":\"caf"
            .getBytes(StandardCharsets.UTF_8));
    b.write(0xC3);
    b.write(0x28); // invalid UTF-8 sequence
    b.writeBytes("\",\"response\":\"x\"}\n".getBytes(StandardCharsets.UTF_8));
    Path p = dir.resolve("mixed.jsonl");
    Files.write(p, b.toByteArray());
    return p;
  }

  @Test
  void badRowsAreQuarantinedWithTheirReasonAndTheStatsAreExact() throws IOException {
    Path out = dir.resolve("out");
    PrepResult r = PrepJob.run(spark, config(mixed(), out, "truncate", 0.5, 128, 250));
    Map<String, Long> want = new TreeMap<>();
    for (String reason :
        List.of(
            "invalid_json",
            "missing_question",
            "empty_response",
            "wrong_type",
            "duplicate_id",
            "control_characters",
            "too_long_chars",
            "no_learned_tokens",
            "invalid_utf8")) {
      want.put(reason, 1L);
    }
    assertEquals(want, r.rejected(), "one row per bad kind");
    assertEquals(29, r.rowsRead());
    assertEquals(20, r.written().values().stream().mapToLong(Long::longValue).sum());
    Map<String, String> reasons = new TreeMap<>();
    for (Row row : spark.read().parquet(out.resolve("_rejected").toString()).collectAsList()) {
      reasons.put(row.getAs("reason"), row.getAs("raw"));
    }
    assertEquals(want.keySet(), reasons.keySet());
    assertTrue(
        reasons.get("invalid_json").startsWith("{\"id\": \"bad-json\""), "the raw line is kept");
    long written =
        spark.read().parquet(out.resolve("train").toString()).count()
            + spark.read().parquet(out.resolve("eval").toString()).count();
    assertEquals(20, written);
    String stats = Files.readString(out.resolve("stats.json"));
    assertTrue(
        stats.contains("\"rows_rejected\" : 9") && stats.contains("\"schema_version\" : 1"), stats);
    var field = spark.read().parquet(out.resolve("train").toString()).schema().apply("input_ids");
    assertEquals(
        1L,
        field.metadata().getLong(PrepOutput.SCHEMA_KEY),
        "schema version in the Parquet metadata");
  }

  @Test
  void tooManyRejectedRowsFailClearlyAndKeepThePreviousOutput() throws IOException {
    Path out = dir.resolve("out2");
    Path good = dir.resolve("good.jsonl");
    SampleGenerator.writeJsonl(new SampleGenerator().generate(30, 3), good);
    PrepJob.run(spark, config(good, out, "truncate", 0.05, 256, 32000));
    String before = Files.readString(out.resolve("stats.json"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> PrepJob.run(spark, config(mixed(), out, "truncate", 0.05, 128, 250)));
    assertTrue(
        e.getMessage().contains("max_rejected") && e.getMessage().contains("duplicate_id"),
        e.getMessage());
    assertEquals(before, Files.readString(out.resolve("stats.json")), "earlier output intact");
    assertTrue(
        Files.isDirectory(dir.resolve("out2.failed").resolve("_rejected")),
        "rejected rows kept for inspection");
  }

  @Test
  void aMissingInputIsNamedWithTheFixAndWritesNothing() {
    Path missing = dir.resolve("missing.jsonl");
    String e = refusedWithoutOutput(missing);
    assertTrue(e.contains("prep input " + missing) && e.contains("--input"), e);
  }

  /** The message of the input error that preparing {@code in} raises; nothing was written. */
  private String refusedWithoutOutput(Path in) {
    Path out = dir.resolve("out-" + in.getFileName());
    String e =
        assertThrows(
                IllegalArgumentException.class,
                () -> PrepJob.run(spark, config(in, out, "truncate", 0.05, 256, 32000)))
            .getMessage();
    assertFalse(Files.exists(out), "nothing written");
    return e;
  }

  @Test
  void aMissingColumnIsNamedWithTheMappingThatFixesIt() {
    Path in = dir.resolve("noresponse.parquet");
    spark
        .sql("SELECT 'a' AS id, 'what?' AS question, 'x' AS answer")
        .write()
        .parquet(in.toString());
    assertNamesTheResponseMapping(refusedWithoutOutput(in));
  }

  /** The error names the missing column, the source's columns and the mapping that fixes it. */
  private static void assertNamesTheResponseMapping(String e) {
    assertTrue(
        e.contains("has no column \"response\"")
            && e.contains("prep.columns.response")
            && e.contains("answer"),
        e);
  }

  @Test
  void aJsonLinesInputWithoutTheResponseFieldIsNamedLikeAMissingColumn() throws IOException {
    Path in = dir.resolve("noresponse.jsonl");
    Files.writeString(
        in,
        "{\"id\":\"a\",\"question\":\"what?\",\"answer\":\"x\"}\n"
            + "{\"id\":\"b\",\"question\":\"why?\",\"answer\":\"y\"}\n");
    assertNamesTheResponseMapping(refusedWithoutOutput(in));
  }

  private List<String> rows(Path out, String split) {
    List<String> l = new ArrayList<>();
    for (Row r :
        spark.read().parquet(out.resolve(split).toString()).orderBy("id").collectAsList()) {
      l.add(r.mkString("|"));
    }
    return l;
  }

  @Test
  void sameInputGivesIdenticalOutputAcrossRunsAndPartitionCounts() throws IOException {
    List<SampleGenerator.Row> sample = new SampleGenerator().generate(400, 5);
    Path one = dir.resolve("one.jsonl");
    SampleGenerator.writeJsonl(sample, one);
    Path four = dir.resolve("four");
    Files.createDirectories(four);
    for (int p = 0; p < 4; p++) {
      SampleGenerator.writeJsonl(
          sample.subList(p * 100, (p + 1) * 100), four.resolve("part-" + p + ".jsonl"));
    }
    for (String mode : List.of("truncate", "pack")) {
      PrepJob.run(spark, config(one, dir.resolve("a-" + mode), mode, 0.05, 256, 32000));
      PrepJob.run(spark, config(one, dir.resolve("b-" + mode), mode, 0.05, 256, 32000));
      PrepJob.run(spark, config(four, dir.resolve("c-" + mode), mode, 0.05, 256, 32000));
      for (String split : List.of("train", "eval")) {
        List<String> a = rows(dir.resolve("a-" + mode), split);
        assertTrue(a.size() > 0);
        assertEquals(a, rows(dir.resolve("b-" + mode), split), mode + "/" + split + ": run to run");
        assertEquals(
            a, rows(dir.resolve("c-" + mode), split), mode + "/" + split + ": 1 vs 4 input files");
      }
    }
  }

  @Test
  void packedRowsRestartPositionsPerSampleAndKeepEveryLearnedToken() throws IOException {
    Path in = dir.resolve("s.jsonl");
    SampleGenerator.writeJsonl(new SampleGenerator().generate(200, 9), in);
    PrepResult plain =
        PrepJob.run(spark, config(in, dir.resolve("plain"), "truncate", 0.05, 512, 32000));
    PrepResult packed =
        PrepJob.run(spark, config(in, dir.resolve("packed"), "pack", 0.05, 512, 32000));
    assertEquals(plain.tokens().learnedTokens(), packed.tokens().learnedTokens());
    assertTrue(
        packed.packedRows() < plain.tokens().examples() / 2,
        "several samples per row: " + packed.packedRows());
    for (Row r :
        spark.read().parquet(dir.resolve("packed").resolve("train").toString()).collectAsList()) {
      List<Integer> pos = r.getList(r.fieldIndex("position_ids"));
      List<Integer> seg = r.getList(r.fieldIndex("segment_ids"));
      List<Integer> labels = r.getList(r.fieldIndex("labels"));
      assertTrue(pos.size() <= 512);
      for (int i = 0; i < pos.size(); i++) {
        boolean start = i == 0 || !seg.get(i).equals(seg.get(i - 1));
        assertEquals(start, pos.get(i) == 0, "positions restart exactly at sample starts");
        if (start) {
          assertEquals(-100, labels.get(i), "a sample's first token is a prompt token");
        }
      }
    }
  }
}
