package dev.l1ra.data.sample;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.core.util.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Synthetic OpenOrca-schema rows (id, system_prompt, question, response) with short, checkable
 * answers — arithmetic, sorting, string transforms, sequences — and varied system prompts (some
 * empty), deterministic in the seed. The texts are our own; the quickstart and tests use them
 * offline. CLI: {@code SampleGenerator --rows N --seed S --out FILE.jsonl}.
 */
public final class SampleGenerator {
  /** One row in the OpenOrca schema. */
  public record Row(String id, String systemPrompt, String question, String response) {}

  static final List<String> SYSTEM_PROMPTS =
      List.of(
          "",
          "You are a helpful assistant.",
          "You are a careful math tutor. Answer briefly.",
          "Answer with the result only.",
          "You are an AI assistant. Give a short, exact answer.",
          "");
  static final List<String> WORDS =
      List.of(
          "planet", "garden", "river", "silver", "window", "pencil", "rocket", "forest", "candle",
          "bridge", "orange", "castle", "mirror", "winter", "summer", "coffee", "dragon", "violet",
          "marble", "anchor");

  private final List<Function<SplittableRandom, String[]>> tasks =
      List.of(
          SampleGenerator::add,
          SampleGenerator::subtract,
          SampleGenerator::multiply,
          SampleGenerator::sort,
          SampleGenerator::reverse,
          SampleGenerator::upper,
          SampleGenerator::count,
          SampleGenerator::max,
          SampleGenerator::sequence);

  /** {@code rows} rows from a seed. */
  public List<Row> generate(int rows, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<Row> out = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      String[] qa = tasks.get(rng.nextInt(tasks.size())).apply(rng);
      String system = SYSTEM_PROMPTS.get(rng.nextInt(SYSTEM_PROMPTS.size()));
      out.add(new Row(String.format(Locale.ROOT, "synth.%d.%06d", seed, i), system, qa[0], qa[1]));
    }
    return out;
  }

  private static String[] add(SplittableRandom r) {
    int a = r.nextInt(100);
    int b = r.nextInt(100);
    return new String[] {"What is " + a + " + " + b + "?", a + " + " + b + " = " + (a + b)};
  }

  private static String[] subtract(SplittableRandom r) {
    int a = 20 + r.nextInt(80);
    int b = r.nextInt(a);
    return new String[] {"Compute " + a + " - " + b + ".", a + " - " + b + " = " + (a - b)};
  }

  private static String[] multiply(SplittableRandom r) {
    int a = 2 + r.nextInt(11);
    int b = 2 + r.nextInt(11);
    return new String[] {"What is " + a + " times " + b + "?", a + " x " + b + " = " + (a * b)};
  }

  private static String[] sort(SplittableRandom r) {
    int[] v = r.ints(4 + r.nextInt(3), 0, 50).toArray();
    int[] s = v.clone();
    Arrays.sort(s);
    return new String[] {"Sort these numbers in ascending order: " + join(v) + ".", join(s)};
  }

  private static String[] reverse(SplittableRandom r) {
    String w = WORDS.get(r.nextInt(WORDS.size()));
    return new String[] {
      "Reverse the word \"" + w + "\".", new StringBuilder(w).reverse().toString()
    };
  }

  private static String[] upper(SplittableRandom r) {
    String w = WORDS.get(r.nextInt(WORDS.size())) + " " + WORDS.get(r.nextInt(WORDS.size()));
    return new String[] {"Write \"" + w + "\" in capital letters.", w.toUpperCase(Locale.ROOT)};
  }

  private static String[] count(SplittableRandom r) {
    String w = WORDS.get(r.nextInt(WORDS.size()));
    return new String[] {
      "How many letters are in the word \"" + w + "\"?", w + " has " + w.length() + " letters."
    };
  }

  private static String[] max(SplittableRandom r) {
    int[] v = r.ints(3 + r.nextInt(3), 0, 100).toArray();
    return new String[] {
      "Which number is the largest: " + join(v) + "?",
      String.valueOf(Arrays.stream(v).max().orElseThrow())
    };
  }

  private static String[] sequence(SplittableRandom r) {
    int start = r.nextInt(10);
    int step = 1 + r.nextInt(9);
    int[] v = {start, start + step, start + 2 * step, start + 3 * step};
    return new String[] {
      "What number comes next: " + join(v) + ", ...?", String.valueOf(start + 4 * step)
    };
  }

  private static String join(int[] v) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < v.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(v[i]);
    }
    return sb.toString();
  }

  /** Writes rows as JSON Lines (atomically). */
  public static void writeJsonl(List<Row> rows, Path file) {
    ObjectMapper json = new ObjectMapper();
    try {
      Path tmp = AtomicFiles.tempFileBeside(file);
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        for (Row r : rows) {
          ObjectNode n = json.createObjectNode();
          n.put("id", r.id());
          n.put("system_prompt", r.systemPrompt());
          n.put("question", r.question());
          n.put("response", r.response());
          w.write(n.toString());
          w.newLine();
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write sample " + file + ": " + e, e);
    }
  }

  public static void main(String[] argv) {
    Args a = Args.parse("sample", argv, Set.of("rows", "seed", "out"), Set.of());
    Path out = Path.of(a.require("sample", "out"));
    writeJsonl(
        new SampleGenerator().generate(a.getPositive("rows", 4000), a.getInt("seed", 7)), out);
    System.out.println("wrote " + out);
  }
}
