package dev.l1ra.core.hf;

import java.util.Arrays;
import java.util.List;

/**
 * The model families this project implements, keyed by Hugging Face's {@code model_type}: the one
 * place that knows what differs between them (in the spirit of Jlama's {@code ModelSupport}). Every
 * family is a Llama-style decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU).
 */
public enum ModelFamily {
  LLAMA("llama", "LlamaForCausalLM", ChatFormat.LLAMA3, false, false),
  MISTRAL("mistral", "MistralForCausalLM", ChatFormat.MISTRAL, false, true),
  QWEN2("qwen2", "Qwen2ForCausalLM", ChatFormat.CHATML, true, false);

  private final String modelType;
  private final String architecture;
  private final ChatFormat chatFormat;
  private final boolean qkvBias;
  private final boolean slidingWindowAlwaysOn;

  ModelFamily(
      String modelType,
      String architecture,
      ChatFormat chatFormat,
      boolean qkvBias,
      boolean slidingWindowAlwaysOn) {
    this.modelType = modelType;
    this.architecture = architecture;
    this.chatFormat = chatFormat;
    this.qkvBias = qkvBias;
    this.slidingWindowAlwaysOn = slidingWindowAlwaysOn;
  }

  /** The family of a {@code model_type}; an unsupported one is named with the supported ones. */
  public static ModelFamily of(String modelType) {
    for (ModelFamily f : values()) {
      if (f.modelType.equals(modelType)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "model_type \"" + modelType + "\" is not supported; supported: " + modelTypes());
  }

  /** The supported {@code model_type} values. */
  public static List<String> modelTypes() {
    return Arrays.stream(values()).map(ModelFamily::modelType).toList();
  }

  /** Hugging Face's {@code model_type} (also the transformers package, {@code models/<type>}). */
  public String modelType() {
    return modelType;
  }

  /** The transformers class in {@code architectures} and PEFT's {@code auto_mapping}. */
  public String architecture() {
    return architecture;
  }

  /** The chat format of the family's instruct models ({@code prep.template: auto}). */
  public ChatFormat chatFormat() {
    return chatFormat;
  }

  /** q, k and v projections always carry a bias (Qwen2); otherwise {@code attention_bias} says. */
  public boolean qkvBias() {
    return qkvBias;
  }

  /**
   * Whether {@code sliding_window} applies whenever config.json sets it (Mistral); the other
   * families apply it only with {@code use_sliding_window: true}, as transformers does.
   */
  public boolean slidingWindowAlwaysOn() {
    return slidingWindowAlwaysOn;
  }

  @Override
  public String toString() {
    return modelType;
  }
}
