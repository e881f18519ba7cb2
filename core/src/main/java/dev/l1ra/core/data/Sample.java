package dev.l1ra.core.data;

import java.io.Serializable;

/**
 * One tokenized training row as data-prep writes it: ids and labels aligned (labels -100 where
 * nothing is learned; the loss shifts them). Packed rows carry per-token positions and sample
 * (segment) ids; plain rows leave them null.
 */
public record Sample(String id, int[] inputIds, int[] labels, int[] positions, int[] segments)
    implements Serializable {
  public static final int IGNORE = -100;

  public Sample {
    if (inputIds == null || labels == null || inputIds.length != labels.length) {
      throw new IllegalArgumentException(
          "sample " + id + ": input_ids and labels must have the same length");
    }
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("sample " + id + " has no tokens");
    }
    if (positions != null && positions.length != inputIds.length
        || segments != null && segments.length != inputIds.length) {
      throw new IllegalArgumentException(
          "sample " + id + ": position_ids/segment_ids must match input_ids in length");
    }
  }

  public int length() {
    return inputIds.length;
  }

  /** Targets learned after the one-token shift: labels[1..] that are not -100. */
  public int learnedTokens() {
    int n = 0;
    for (int i = 1; i < labels.length; i++) {
      n += labels[i] == IGNORE ? 0 : 1;
    }
    return n;
  }
}
