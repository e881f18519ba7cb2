package dev.l1ra.data.template;

/**
 * Mistral / Llama 2 instruct: {@code <s>[INST] ... [/INST]} then the answer and {@code </s>}. A
 * system prompt goes before the question inside the instruction, separated by a blank line
 * (Mistral's template; it has no system role); an empty one is left out.
 */
public final class MistralTemplate implements ChatTemplate {
  private static final long serialVersionUID = 1L;
  static final String EOS = "</s>";

  @Override
  public Rendered render(String system, String question, String response) {
    String instruction = system == null || system.isEmpty() ? question : system + "\n\n" + question;
    return new Rendered("<s>[INST] " + instruction + " [/INST]", " " + response + EOS);
  }

  @Override
  public String endMarker() {
    return EOS;
  }

  @Override
  public String name() {
    return "mistral";
  }
}
