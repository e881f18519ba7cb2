package dev.l1ra.core.config;

/**
 * The base model.
 *
 * @param path Hugging Face model folder (config.json + safetensors)
 * @param generate instead of {@code path}: build a random-initialised model of a named shape
 *     ({@code tiny}) into {@code path} when it does not exist yet (offline quickstarts, benchmarks)
 * @param precision fp32 or fp16 (bf16 is refused: DJL 0.36 has no bf16 NDArray)
 * @param device auto, cpu, gpu, gpu:N; on Spark executors the task's GPU wins
 * @param attention plain, fused or auto
 * @param tokenizer folder with tokenizer.json (defaults to {@code path})
 */
public record ModelSection(
    String path,
    String generate,
    String precision,
    String device,
    String attention,
    String tokenizer) {
  public ModelSection {
    ConfigException.check(
        path != null && !path.isBlank(), "model.path", path, "set the Hugging Face model folder");
    precision = precision == null ? "fp32" : precision;
    device = device == null ? "auto" : device;
    attention = attention == null ? "auto" : attention;
    ConfigException.check(
        java.util.List.of("plain", "fused", "auto").contains(attention),
        "model.attention",
        attention,
        "use plain, fused or auto");
    tokenizer = tokenizer == null ? path : tokenizer;
  }
}
