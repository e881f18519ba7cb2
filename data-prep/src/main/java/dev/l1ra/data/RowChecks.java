package dev.l1ra.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.PrepSection;
import java.util.ArrayList;
import java.util.List;

/**
 * Validation of one input row. Reasons are stable snake_case strings: {@code invalid_json}, {@code
 * missing_id}, {@code missing_question}, {@code missing_response}, {@code empty_question}, {@code
 * empty_response}, {@code wrong_type}, {@code invalid_utf8} (U+FFFD, which the reader puts for
 * undecodable bytes), {@code control_characters} (C0 controls other than tab, newline, CR, and
 * DEL), {@code too_long_chars}; later stages add {@code duplicate_id} and {@code
 * no_learned_tokens}.
 */
public final class RowChecks {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RowChecks() {}

  /** Parses and checks one JSON line. */
  public static RawRow fromJsonLine(String line, PrepSection cfg) {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (Exception e) {
      return new RawRow(null, null, null, null, line, "invalid_json");
    }
    if (n == null || !n.isObject()) {
      return new RawRow(null, null, null, null, line, "invalid_json");
    }
    String id = scalar(n.get(cfg.column("id")));
    RawRow r =
        new RawRow(
            id,
            text(n.get(cfg.column("system_prompt"))),
            text(n.get(cfg.column("question"))),
            text(n.get(cfg.column("response"))),
            line,
            null);
    if (!isTextOrAbsent(n.get(cfg.column("system_prompt")))
        || !isTextOrAbsent(n.get(cfg.column("question")))
        || !isTextOrAbsent(n.get(cfg.column("response")))) {
      return r.reject("wrong_type");
    }
    return check(r, cfg.maxChars());
  }

  /** The field names of a JSON line; none when it is not a JSON object. */
  static List<String> fieldNames(String line) {
    List<String> names = new ArrayList<>();
    try {
      JsonNode n = JSON.readTree(line);
      if (n != null && n.isObject()) {
        n.fieldNames().forEachRemaining(names::add);
      }
    } catch (Exception e) {
      // not JSON: the row is rejected as invalid_json on its own
    }
    return names;
  }

  /** Checks a row read from a typed source (Parquet, CSV). */
  public static RawRow check(RawRow r, int maxChars) {
    if (r.id() == null || r.id().isBlank()) {
      return r.reject("missing_id");
    }
    if (r.question() == null) {
      return r.reject("missing_question");
    }
    if (r.response() == null) {
      return r.reject("missing_response");
    }
    if (r.question().isBlank()) {
      return r.reject("empty_question");
    }
    if (r.response().isBlank()) {
      return r.reject("empty_response");
    }
    String all = (r.system() == null ? "" : r.system()) + r.question() + r.response() + r.id();
    if (all.indexOf('\uFFFD') >= 0) {
      return r.reject("invalid_utf8");
    }
    if (hasControl(all)) {
      return r.reject("control_characters");
    }
    if (all.length() - r.id().length() > maxChars) {
      return r.reject("too_long_chars");
    }
    return r;
  }

  static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) {
        return true;
      }
    }
    return false;
  }

  private static boolean isTextOrAbsent(JsonNode n) {
    return n == null || n.isNull() || n.isTextual();
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.isTextual() ? n.asText() : n.toString();
  }

  /** Ids may be numbers in some sources; they are kept as their text. */
  private static String scalar(JsonNode n) {
    return n == null || n.isNull() || n.isContainerNode() ? null : n.asText();
  }
}
