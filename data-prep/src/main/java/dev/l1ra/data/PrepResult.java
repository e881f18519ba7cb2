package dev.l1ra.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * What a data-preparation run did, written as {@code stats.json} and printed as the CLI's last
 * line.
 *
 * @param written examples per split (packed rows in pack mode)
 * @param rejected rows per rejection reason
 * @param fingerprint what the data was made from ({@link PrepFingerprint})
 */
public record PrepResult(
    String out,
    long rowsRead,
    Map<String, Long> written,
    Map<String, Long> rejected,
    PrepStats tokens,
    long packedRows,
    String template,
    String mode,
    int seqLen,
    double seconds,
    Map<String, String> fingerprint) {
  public static final int SCHEMA_VERSION = 1;

  public long rejectedTotal() {
    return rejected.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The stats as one JSON object. */
  public ObjectNode json() {
    ObjectMapper m = new ObjectMapper();
    ObjectNode n = m.createObjectNode();
    n.put("schema_version", SCHEMA_VERSION);
    n.put("out", out);
    n.put("rows_read", rowsRead);
    n.put("rows_written", written.values().stream().mapToLong(Long::longValue).sum());
    ObjectNode w = n.putObject("rows_written_by_split");
    written.forEach(w::put);
    n.put("rows_rejected", rejectedTotal());
    ObjectNode r = n.putObject("rejected_by_reason");
    rejected.forEach(r::put);
    n.put("template", template);
    n.put("mode", mode);
    n.put("seq_len", seqLen);
    n.put("examples", tokens.examples());
    if (mode.equals("pack")) {
      n.put("packed_rows", packedRows);
    }
    n.put("tokens", tokens.tokens());
    n.put("learned_tokens", tokens.learnedTokens());
    n.put("truncated", tokens.truncated());
    n.put(
        "truncation_rate",
        tokens.examples() == 0 ? 0 : (double) tokens.truncated() / tokens.examples());
    n.put("max_tokens_before_truncation", tokens.maxLength());
    ObjectNode h = n.putObject("length_histogram");
    tokens.histogram().forEach((k, v) -> h.put("<=" + k, v));
    n.put("seconds", seconds);
    n.put("tokens_per_second", seconds > 0 ? tokens.tokens() / seconds : 0);
    ObjectNode f = n.putObject(PrepFingerprint.KEY);
    fingerprint.forEach(f::put);
    return n;
  }
}
