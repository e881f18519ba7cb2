package dev.l1ra.core.safetensors;

import java.util.Collection;
import java.util.Comparator;
import java.util.stream.Collectors;

/** Suggests the closest known names for an error message ("did you mean ..."). */
public final class NameHints {
  private NameHints() {}

  /** A short phrase listing up to three known names closest to {@code wanted}. */
  public static String near(String wanted, Collection<String> known) {
    if (known.isEmpty()) {
      return "the source holds no tensors";
    }
    String best =
        known.stream()
            .sorted(
                Comparator.comparingInt((String k) -> distance(wanted, k)).thenComparing(k -> k))
            .limit(3)
            .map(k -> "\"" + k + "\"")
            .collect(Collectors.joining(", "));
    return "closest of " + known.size() + " names: " + best;
  }

  /** Levenshtein distance, two-row form. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
