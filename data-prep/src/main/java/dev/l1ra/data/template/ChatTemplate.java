package dev.l1ra.data.template;

import dev.l1ra.core.hf.ChatFormat;
import dev.l1ra.core.hf.ModelFamily;
import java.io.Serializable;

/**
 * A model family's chat format. It renders one (system, question, response) example as a prompt
 * part, which is not learned, and a response part — the answer and the turn's end marker — which
 * is. The two strings concatenate to exactly the text the family's official chat template produces;
 * tokenisation then runs once over the whole text.
 */
public interface ChatTemplate extends Serializable {

  /** The text split at the learned boundary. */
  record Rendered(String prompt, String response) {
    public String text() {
      return prompt + response;
    }
  }

  /** Renders an example; an empty system prompt is handled as the family's template does. */
  Rendered render(String system, String question, String response);

  /** The text the learned part ends with (the end-of-turn / EOS marker). */
  String endMarker();

  /** Name in configs. */
  String name();

  /** The template of a format; {@code auto} must be resolved first ({@link ModelFamily}). */
  static ChatTemplate of(ChatFormat format) {
    return switch (format) {
      case LLAMA3 -> new Llama3Template();
      case MISTRAL -> new MistralTemplate();
      case CHATML -> new ChatMlTemplate();
      case AUTO ->
          throw new IllegalArgumentException(
              "template auto is chosen from the model's model_type (set prep.model_config)");
    };
  }

  /** The template of a config spelling ({@link ChatFormat#parse}). */
  static ChatTemplate named(String name) {
    return of(ChatFormat.parse(name));
  }
}
