package dev.l1ra.data.template;

/**
 * Llama 3 / 3.1 instruct: header tokens around each role, {@code <|eot_id|>} closing each turn. An
 * empty system prompt leaves the system turn out (Llama 3.0's template; 3.1's would add a dated
 * default system turn).
 */
public final class Llama3Template implements ChatTemplate {
  private static final long serialVersionUID = 1L;
  static final String EOT = "<|eot_id|>";

  @Override
  public Rendered render(String system, String question, String response) {
    StringBuilder p = new StringBuilder("<|begin_of_text|>");
    if (system != null && !system.isEmpty()) {
      p.append(turn("system", system));
    }
    p.append(turn("user", question));
    p.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    return new Rendered(p.toString(), response + EOT);
  }

  private static String turn(String role, String text) {
    return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + text + EOT;
  }

  @Override
  public String endMarker() {
    return EOT;
  }

  @Override
  public String name() {
    return "llama3";
  }
}
