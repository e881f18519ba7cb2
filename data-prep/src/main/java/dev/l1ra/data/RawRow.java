package dev.l1ra.data;

import java.io.Serializable;

/**
 * One input row as read, before tokenisation. {@code reason} is null for a valid row, else the
 * rejection reason; {@code raw} keeps the original text of the row for {@code _rejected}.
 */
public record RawRow(
    String id, String system, String question, String response, String raw, String reason)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public RawRow reject(String why) {
    return new RawRow(id, system, question, response, raw, why);
  }

  public boolean ok() {
    return reason == null;
  }

  /** A stable hash of the content, to pick which of several rows with one id is kept. */
  public long contentHash() {
    return Hashes.fnv64(String.valueOf(system) + '\u0000' + question + '\u0000' + response);
  }
}
