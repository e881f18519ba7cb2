package dev.l1ra.model.fused;

import dev.l1ra.core.hf.LinearKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The TorchScript source of one decoder layer (RMSNorm → attention with RoPE and LoRA → residual →
 * RMSNorm → SwiGLU MLP with LoRA → residual), generated for one layer {@link Signature}: which
 * projections carry adapters, gates and biases, whether q|k|v and gate|up are fused, dropout, the
 * mask path and the grouped-query repeat. Every operation is the aten operator the plain-op path
 * ({@code LlamaModel.layer} with the fused attention kernel) calls, in the same order with the same
 * operands, so the two agree bit for bit on the CPU; the script only replaces ~200 engine calls
 * from Java by one.
 *
 * <p>Inputs, in order: {@code h, cos, sin, [mask], eps, expo, w_in, w_post}, the base weights (and
 * biases) as {@link #weightNames} lists them, then per adapted projection {@code a_X, b_X, [c_X],
 * s_X} (down, up, gate, scaling as a 0-d float32 tensor). Numbers that must match the plain path
 * bit for bit (eps, the −0.5 exponent, scalings) come as the same 0-d tensors it uses.
 */
final class LayerScript {
  private LayerScript() {}

  /**
   * What varies between layers' scripts.
   *
   * @param adapted per projection (LinearKind order): has an adapter
   * @param mid per projection: its adapter has a per-rank vector (L1RA gate, AdaLoRA's E)
   * @param biased per projection: the base projection has a bias
   * @param batches per projection: its adapter's down-projection may share one matmul
   * @param fusedQkv the base q|k|v weights are one [q; k; v] weight (biases likewise)
   * @param fusedGateUp the base gate|up weights are one weight
   * @param dropout LoRA dropout probability on the adapters' input (0: none), as the float value
   *     the plain path passes
   * @param masked an explicit additive mask instead of the causal flag
   * @param kvRepeat how often each k/v head is repeated before the kernel (1: native groups)
   */
  record Signature(
      boolean[] adapted,
      boolean[] mid,
      boolean[] biased,
      boolean[] batches,
      boolean fusedQkv,
      boolean fusedGateUp,
      float dropout,
      boolean masked,
      int kvRepeat,
      int heads,
      int kvHeads,
      int headDim,
      int intermediate) {

    String key() {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < adapted.length; i++) {
        b.append(adapted[i] ? (mid[i] ? 'G' : 'L') : '-')
            .append(batches[i] ? 'B' : 's')
            .append(biased[i] ? 'b' : '.');
      }
      return String.format(
          Locale.ROOT,
          "%s_%s%s_p%s_%s_r%d_%d_%d_%d_%d",
          b,
          fusedQkv ? "Q" : "q",
          fusedGateUp ? "U" : "u",
          Float.toString(dropout),
          masked ? "m" : "c",
          kvRepeat,
          heads,
          kvHeads,
          headDim,
          intermediate);
    }

    /** Output features of a projection (for splitting fused outputs). */
    int outFeatures(LinearKind k) {
      return switch (k) {
        case Q, O -> heads * headDim;
        case K, V -> kvHeads * headDim;
        case GATE, UP -> intermediate;
        case DOWN -> heads * headDim;
      };
    }

    boolean has(LinearKind k) {
      return adapted[k.ordinal()];
    }
  }

  static final LinearKind[] QKV = {LinearKind.Q, LinearKind.K, LinearKind.V};
  static final LinearKind[] GATE_UP = {LinearKind.GATE, LinearKind.UP};

  /** Names of the base weight (and bias) inputs, in order. */
  static List<String> weightNames(Signature s) {
    List<String> out = new ArrayList<>();
    if (s.fusedQkv()) {
      out.add("w_qkv");
      if (s.biased()[LinearKind.Q.ordinal()]) {
        out.add("bias_qkv");
      }
    } else {
      for (LinearKind k : QKV) {
        weight(out, s, k);
      }
    }
    weight(out, s, LinearKind.O);
    if (s.fusedGateUp()) {
      out.add("w_gate_up");
      if (s.biased()[LinearKind.GATE.ordinal()]) {
        out.add("bias_gate_up");
      }
    } else {
      for (LinearKind k : GATE_UP) {
        weight(out, s, k);
      }
    }
    weight(out, s, LinearKind.DOWN);
    return out;
  }

  private static void weight(List<String> out, Signature s, LinearKind k) {
    out.add("w_" + k.hfName());
    if (s.biased()[k.ordinal()]) {
      out.add("bias_" + k.hfName());
    }
  }

  /** Names of the adapter inputs, in order. */
  static List<String> adapterNames(Signature s) {
    List<String> out = new ArrayList<>();
    for (LinearKind k : LinearKind.values()) {
      if (s.has(k)) {
        String n = k.hfName();
        out.add("a_" + n);
        out.add("b_" + n);
        if (s.mid()[k.ordinal()]) {
          out.add("g_" + n);
        }
        out.add("s_" + n);
      }
    }
    return out;
  }

  /** The module's methods: {@code forward} and its helpers. */
  static String source(Signature s) {
    List<String> params = new ArrayList<>(List.of("h", "cos", "sin"));
    if (s.masked()) {
      params.add("mask");
    }
    params.addAll(List.of("eps", "expo", "w_in", "w_post"));
    params.addAll(weightNames(s));
    params.addAll(adapterNames(s));
    StringBuilder b = new StringBuilder();
    b.append("def forward(self, ");
    b.append(String.join(", ", params.stream().map(p -> p + ": Tensor").toList()));
    b.append(") -> Tensor:\n");
    b.append("    x = self.rms(h, w_in, eps, expo)\n");
    b.append("    t = x.dtype\n");
    b.append("    bsz = x.size(0)\n");
    b.append("    seq = x.size(1)\n");
    group(b, s, QKV, s.fusedQkv(), "qkv");
    head(b, "q", "y_q_proj", s.heads(), s.headDim());
    head(b, "k", "y_k_proj", s.kvHeads(), s.headDim());
    head(b, "v", "y_v_proj", s.kvHeads(), s.headDim());
    b.append("    q = self.rope(q, cos, sin)\n");
    b.append("    k = self.rope(k, cos, sin)\n");
    repeat(b, s, "k");
    repeat(b, s, "v");
    if (s.masked()) {
      b.append("    o = torch.scaled_dot_product_attention(q, k, v, mask, 0.0, False,")
          .append(" scale=None, enable_gqa=True)\n");
    } else {
      b.append("    o = torch.scaled_dot_product_attention(q, k, v, None, 0.0, True,")
          .append(" scale=None, enable_gqa=True)\n");
    }
    b.append("    o = torch.reshape(torch.permute(o, [0, 2, 1, 3]), [bsz, seq, ")
        .append(s.heads() * s.headDim())
        .append("])\n");
    single(b, s, LinearKind.O, "o");
    b.append("    h = torch.add(h, y_o_proj)\n");
    b.append("    x = self.rms(h, w_post, eps, expo)\n");
    group(b, s, GATE_UP, s.fusedGateUp(), "gate_up");
    b.append("    act = torch.mul(torch.silu(y_gate_proj), y_up_proj)\n");
    single(b, s, LinearKind.DOWN, "act");
    b.append("    return torch.add(h, y_down_proj)\n\n");
    b.append(HELPERS);
    return b.toString();
  }

  /** RMSNorm and RoPE exactly as LlamaModel.rmsNorm and Rope.apply compute them. */
  private static final String HELPERS =
      String.join(
          "\n",
          "def rms(self, x: Tensor, w: Tensor, eps: Tensor, expo: Tensor) -> Tensor:",
          "    t = x.dtype",
          "    x32 = x.float()",
          "    inv = torch.pow(torch.add(torch.mean(torch.square(x32), [-1], True), eps), expo)",
          "    return torch.mul(w, torch.mul(x32, inv).to(t))",
          "",
          "def rope(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:",
          "    halves = torch.split(x, x.size(3) // 2, 3)",
          "    rotated = torch.cat([torch.neg(halves[1]), halves[0]], 3)",
          "    return torch.add(torch.mul(x, cos), torch.mul(rotated, sin))",
          "");

  /** [B, T, n·D] → [B, n, T, D]. */
  private static void head(StringBuilder b, String name, String y, int n, int d) {
    b.append("    ")
        .append(name)
        .append(" = torch.permute(torch.reshape(")
        .append(y)
        .append(", [bsz, seq, ")
        .append(n)
        .append(", ")
        .append(d)
        .append("]), [0, 2, 1, 3])\n");
  }

  /** transformers' repeat_kv, as PlainAttention.repeatKv builds it (expand, reshape). */
  private static void repeat(StringBuilder b, Signature s, String x) {
    if (s.kvRepeat() == 1) {
      return;
    }
    int n = s.kvRepeat();
    b.append("    ")
        .append(x)
        .append(" = torch.reshape(torch.expand(torch.unsqueeze(")
        .append(x)
        .append(", 2), [bsz, ")
        .append(s.kvHeads())
        .append(", ")
        .append(n)
        .append(", seq, ")
        .append(s.headDim())
        .append("]), [bsz, ")
        .append(s.kvHeads() * n)
        .append(", seq, ")
        .append(s.headDim())
        .append("])\n");
  }

  /** Projections sharing input x: base outputs y_K, plus their adapters (Projections.group). */
  private static void group(
      StringBuilder b, Signature s, LinearKind[] kinds, boolean fused, String fusedName) {
    if (fused) {
      boolean bias = s.biased()[kinds[0].ordinal()];
      b.append("    ys = torch.split(torch.linear(x, w_")
          .append(fusedName)
          .append(bias ? ", bias_" + fusedName : "")
          .append("), [");
      for (int i = 0; i < kinds.length; i++) {
        b.append(i > 0 ? ", " : "").append(s.outFeatures(kinds[i]));
      }
      b.append("], -1)\n");
      for (int i = 0; i < kinds.length; i++) {
        b.append("    y_").append(kinds[i].hfName()).append(" = ys[").append(i).append("]\n");
      }
    } else {
      for (LinearKind k : kinds) {
        b.append("    y_").append(k.hfName()).append(" = ").append(linear(s, "x", k)).append('\n');
      }
    }
    boolean all = true;
    for (LinearKind k : kinds) {
      all &= s.has(k) && s.batches()[k.ordinal()];
    }
    if (s.dropout() == 0 && all) {
      batchedDown(b, s, kinds);
    } else {
      for (LinearKind k : kinds) {
        if (s.has(k)) {
          b.append("    y_")
              .append(k.hfName())
              .append(" = torch.add(y_")
              .append(k.hfName())
              .append(", ")
              .append(delta(s, k, dropout(s, "x")))
              .append(")\n");
        }
      }
    }
  }

  /** One matmul x·[A_1; A_2; ...]ᵀ, split by rank, then each adapter's up-projection. */
  private static void batchedDown(StringBuilder b, Signature s, LinearKind[] kinds) {
    b.append("    hs = torch.split(torch.linear(x, torch.cat([");
    for (int i = 0; i < kinds.length; i++) {
      b.append(i > 0 ? ", " : "").append("a_").append(kinds[i].hfName()).append(".to(t)");
    }
    b.append("], 0)), [");
    for (int i = 0; i < kinds.length; i++) {
      b.append(i > 0 ? ", " : "").append("a_").append(kinds[i].hfName()).append(".size(0)");
    }
    b.append("], -1)\n");
    for (int i = 0; i < kinds.length; i++) {
      String n = kinds[i].hfName();
      b.append("    y_")
          .append(n)
          .append(" = torch.add(y_")
          .append(n)
          .append(", ")
          .append(up(s, kinds[i], "hs[" + i + "]"))
          .append(")\n");
    }
  }

  /** One projection of input {@code in} with its adapter (Projections.single). */
  private static void single(StringBuilder b, Signature s, LinearKind k, String in) {
    String y = "y_" + k.hfName();
    b.append("    ").append(y).append(" = ").append(linear(s, in, k)).append('\n');
    if (s.has(k)) {
      b.append("    ")
          .append(y)
          .append(" = torch.add(")
          .append(y)
          .append(", ")
          .append(delta(s, k, dropout(s, in)))
          .append(")\n");
    }
  }

  private static String linear(Signature s, String in, LinearKind k) {
    String n = k.hfName();
    return "torch.linear(" + in + ", w_" + n + (s.biased()[k.ordinal()] ? ", bias_" + n : "") + ")";
  }

  private static String dropout(Signature s, String in) {
    if (s.dropout() == 0) {
      return in;
    }
    return "torch.dropout(" + in + ", " + Double.toString(s.dropout()) + ", True)";
  }

  /** Adapter.delta: the up-projection of x·Dᵀ. */
  private static String delta(Signature s, LinearKind k, String in) {
    return up(s, k, "torch.linear(" + in + ", a_" + k.hfName() + ".to(t))");
  }

  /** Adapter.fromDown: s·(h ⊙ g)·Uᵀ. */
  private static String up(Signature s, LinearKind k, String h) {
    String n = k.hfName();
    String gated = s.mid()[k.ordinal()] ? "torch.mul(" + h + ", g_" + n + ".to(t))" : h;
    return "torch.mul(torch.linear(" + gated + ", b_" + n + ".to(t)), s_" + n + ")";
  }
}
