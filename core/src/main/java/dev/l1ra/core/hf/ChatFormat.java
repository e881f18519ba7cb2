package dev.l1ra.core.hf;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.List;
import java.util.Locale;

/**
 * The chat formats data-prep renders ({@code prep.template}). Each model family has a default
 * ({@link ModelFamily#chatFormat()}); {@link #AUTO} asks for it.
 */
public enum ChatFormat {
  /** The model family's default, from the model's {@code model_type}. */
  AUTO,
  /** Llama 3 header tokens and {@code <|eot_id|>}. */
  LLAMA3,
  /** {@code <s>[INST] ... [/INST] answer</s>} (Mistral, also Llama 2). */
  MISTRAL,
  /** ChatML, {@code <|im_start|>}/{@code <|im_end|>} (Qwen2). */
  CHATML;

  /**
   * Parses a config spelling: the lower-case name, or the family names {@code llama2} (mistral's
   * format) and {@code qwen2} (chatml). The message of an unknown name leaves the name to the
   * caller.
   */
  @JsonCreator
  public static ChatFormat parse(String name) {
    return switch (name) {
      case "auto" -> AUTO;
      case "llama3" -> LLAMA3;
      case "mistral", "llama2" -> MISTRAL;
      case "chatml", "qwen2" -> CHATML;
      default -> throw new IllegalArgumentException("not one of " + List.of(values()));
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
