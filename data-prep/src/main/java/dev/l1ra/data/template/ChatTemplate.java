package dev.l1ra.data.template;

import java.io.Serializable;
import java.util.List;

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

  static ChatTemplate named(String name) {
    return switch (name) {
      case "llama3" -> new Llama3Template();
      case "mistral", "llama2" -> new MistralTemplate();
      case "chatml", "qwen2" -> new ChatMlTemplate();
      default ->
          throw new IllegalArgumentException(
              "template \"" + name + "\" is not one of llama3, mistral, chatml");
    };
  }

  /** The template for a Hugging Face model_type. */
  static ChatTemplate forModelType(String modelType) {
    return switch (modelType) {
      case "llama" -> new Llama3Template();
      case "mistral" -> new MistralTemplate();
      case "qwen2" -> new ChatMlTemplate();
      default ->
          throw new IllegalArgumentException(
              "no chat template for model_type \""
                  + modelType
                  + "\"; set template to one of "
                  + List.of("llama3", "mistral", "chatml"));
    };
  }
}
