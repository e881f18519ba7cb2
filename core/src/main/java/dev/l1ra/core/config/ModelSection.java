package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * The base model.
 *
 * @param path Hugging Face model folder (config.json + safetensors)
 * @param generate instead of {@code path}: build a random-initialised model of a named shape
 *     ({@code tiny}) into {@code path} when it does not exist yet (offline quickstarts,
 *     benchmarks); null for none
 * @param precision fp32 or fp16 (bf16 is refused: DJL 0.36 has no bf16 NDArray)
 * @param device auto, cpu, gpu, gpu:N; on Spark executors the task's GPU wins
 * @param attention plain, fused or auto
 * @param tokenizer folder with tokenizer.json (defaults to {@code path})
 */
public record ModelSection(
    String path,
    String generate,
    Precision precision,
    String device,
    AttentionKind attention,
    String tokenizer) {
  public ModelSection {
    ConfigException.check(
        path != null && !path.isBlank(), "model.path", path, "set the Hugging Face model folder");
  }

  /** The keys as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      String path,
      String generate,
      Precision precision,
      String device,
      AttentionKind attention,
      String tokenizer) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static ModelSection of(Keys k) {
    return new ModelSection(
        k.path(),
        k.generate(),
        requireNonNullElse(k.precision(), Precision.FP32),
        requireNonNullElse(k.device(), "auto"),
        requireNonNullElse(k.attention(), AttentionKind.AUTO),
        k.tokenizer() != null ? k.tokenizer() : k.path());
  }
}
