package dev.l1ra.data.template;

/**
 * ChatML as Qwen2 uses it: {@code <|im_start|>role\n...<|im_end|>\n} per turn. Like Qwen2's own
 * template, an empty system prompt is replaced by "You are a helpful assistant.". The learned part
 * is the answer and {@code <|im_end|>} (Qwen2-Instruct's EOS).
 */
public final class ChatMlTemplate implements ChatTemplate {
  private static final long serialVersionUID = 1L;
  static final String END = "<|im_end|>";
  static final String DEFAULT_SYSTEM = "You are a helpful assistant.";

  @Override
  public Rendered render(String system, String question, String response) {
    String sys = system == null || system.isEmpty() ? DEFAULT_SYSTEM : system;
    String prompt =
        "<|im_start|>system\n"
            + sys
            + END
            + "\n<|im_start|>user\n"
            + question
            + END
            + "\n<|im_start|>assistant\n";
    return new Rendered(prompt, response + END);
  }

  @Override
  public String endMarker() {
    return END;
  }

  @Override
  public String name() {
    return "chatml";
  }
}
