package dev.l1ra.core.hf;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The seven linear projections of a Llama-family decoder layer, with their Hugging Face names. */
public enum LinearKind {
  Q("self_attn", "q_proj"),
  K("self_attn", "k_proj"),
  V("self_attn", "v_proj"),
  O("self_attn", "o_proj"),
  GATE("mlp", "gate_proj"),
  UP("mlp", "up_proj"),
  DOWN("mlp", "down_proj");

  private final String parent;
  private final String hfName;

  LinearKind(String parent, String hfName) {
    this.parent = parent;
    this.hfName = hfName;
  }

  /** The submodule holding it: {@code self_attn} or {@code mlp}. */
  public String parent() {
    return parent;
  }

  /** Hugging Face module name, e.g. {@code q_proj}. */
  public String hfName() {
    return hfName;
  }

  /** Short name used in tables and CSVs: q, k, v, o, gate, up, down. */
  public String shortName() {
    return hfName.substring(0, hfName.indexOf('_'));
  }

  public boolean isAttention() {
    return parent.equals("self_attn");
  }

  /** Input features of this projection for a model. */
  public int inFeatures(ModelConfig c) {
    return switch (this) {
      case Q, K, V, GATE, UP -> c.hiddenSize();
      case O -> c.numHeads() * c.headDim();
      case DOWN -> c.intermediateSize();
    };
  }

  /** Output features of this projection for a model. */
  public int outFeatures(ModelConfig c) {
    return switch (this) {
      case Q -> c.numHeads() * c.headDim();
      case K, V -> c.numKvHeads() * c.headDim();
      case O, DOWN -> c.hiddenSize();
      case GATE, UP -> c.intermediateSize();
    };
  }

  /** Finds a kind by its Hugging Face name ({@code q_proj}) or short name ({@code q}). */
  public static Optional<LinearKind> byName(String name) {
    for (LinearKind k : values()) {
      if (k.hfName.equals(name) || k.shortName().equals(name)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** "q_proj, k_proj, ..." for error messages. */
  public static String allHfNames() {
    return Arrays.stream(values()).map(LinearKind::hfName).collect(Collectors.joining(", "));
  }
}
