package dev.l1ra.data;

import java.io.Serializable;

/**
 * A tokenized example: ids and labels aligned (labels -100 on prompt tokens; the loss shifts them).
 * Packed rows also carry positions restarting per sample and segment (sample) ids.
 */
public record Tokenized(
    String id,
    String split,
    int[] inputIds,
    int[] labels,
    int[] positions,
    int[] segments,
    boolean truncated,
    int originalTokens)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public int length() {
    return inputIds.length;
  }

  /** Learned targets after the one-token shift. */
  public int learned() {
    int n = 0;
    for (int i = 1; i < labels.length; i++) {
      n += labels[i] == -100 ? 0 : 1;
    }
    return n;
  }
}
