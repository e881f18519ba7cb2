package dev.l1ra.core.hf;

import java.io.Serializable;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One adaptable linear module: a layer index and a projection kind. Its Hugging Face name is {@code
 * model.layers.{layer}.{self_attn|mlp}.{kind}}.
 */
public record ModuleId(int layer, LinearKind kind) implements Comparable<ModuleId>, Serializable {
  private static final long serialVersionUID = 1L;

  private static final Pattern HF =
      Pattern.compile("(?:.*\\.)?layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+)");

  public ModuleId {
    if (layer < 0) {
      throw new IllegalArgumentException("layer index must be >= 0, got " + layer);
    }
  }

  /** Hugging Face module name, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public String hfName() {
    return "model.layers." + layer + "." + kind.parent() + "." + kind.hfName();
  }

  /** Parses a Hugging Face module name (any prefix before {@code layers.}); empty if not one. */
  public static Optional<ModuleId> parse(String name) {
    Matcher m = HF.matcher(name);
    if (!m.matches()) {
      return Optional.empty();
    }
    return LinearKind.byName(m.group(3))
        .filter(k -> k.parent().equals(m.group(2)))
        .map(k -> new ModuleId(Integer.parseInt(m.group(1)), k));
  }

  @Override
  public int compareTo(ModuleId o) {
    return layer != o.layer ? Integer.compare(layer, o.layer) : kind.compareTo(o.kind);
  }

  @Override
  public String toString() {
    return hfName();
  }
}
