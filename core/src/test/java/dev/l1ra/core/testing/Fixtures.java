package dev.l1ra.core.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Locates the read-only reference fixtures: the {@code l1ra.fixtures} system property that the
 * build sets (the verbatim copy in {@code testdata/fixtures}), else {@code testdata/fixtures} or
 * {@code ../shared/fixtures} found from the working directory upwards.
 */
public final class Fixtures {
  /** The three tiny model folders. */
  public static final List<String> MODELS = List.of("tiny-llama3", "tiny-mistral", "tiny-qwen2");

  /** The PEFT adapter variants inside each model folder. */
  public static final List<String> ADAPTERS = List.of("lora-r4", "lora-pattern", "rslora-r4");

  private Fixtures() {}

  public static Path root() {
    String prop = System.getProperty("l1ra.fixtures");
    if (prop != null && Files.isDirectory(Paths.get(prop))) {
      return Paths.get(prop);
    }
    for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
      for (String rel : List.of("testdata/fixtures", "../shared/fixtures")) {
        Path cand = p.resolve(rel).normalize();
        if (Files.isDirectory(cand.resolve("tiny-llama3"))) {
          return cand;
        }
      }
    }
    throw new IllegalStateException(
        "reference fixtures not found: expected testdata/fixtures in the project (a copy of"
            + " ../shared/fixtures) or -Dl1ra.fixtures=DIR");
  }

  public static Path model(String name) {
    return root().resolve(name);
  }
}
