package dev.l1ra.data;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/** Token statistics of written examples, merged across partitions. */
public final class PrepStats implements Serializable {
  private static final long serialVersionUID = 1L;

  long examples;
  long tokens;
  long learnedTokens;
  long truncated;
  long maxLength;

  /** Examples per length bucket (upper bound, powers of two), before packing. */
  final TreeMap<Integer, Long> histogram = new TreeMap<>();

  PrepStats add(Tokenized t) {
    examples++;
    tokens += t.length();
    learnedTokens += t.learned();
    truncated += t.truncated() ? 1 : 0;
    maxLength = Math.max(maxLength, t.originalTokens());
    histogram.merge(bucket(t.originalTokens()), 1L, Long::sum);
    return this;
  }

  static int bucket(int n) {
    int b = 16;
    while (b < n) {
      b *= 2;
    }
    return b;
  }

  PrepStats merge(PrepStats o) {
    PrepStats s = new PrepStats();
    s.examples = examples + o.examples;
    s.tokens = tokens + o.tokens;
    s.learnedTokens = learnedTokens + o.learnedTokens;
    s.truncated = truncated + o.truncated;
    s.maxLength = Math.max(maxLength, o.maxLength);
    s.histogram.putAll(histogram);
    o.histogram.forEach((k, v) -> s.histogram.merge(k, v, Long::sum));
    return s;
  }

  public long examples() {
    return examples;
  }

  public long tokens() {
    return tokens;
  }

  public long learnedTokens() {
    return learnedTokens;
  }

  public long truncated() {
    return truncated;
  }

  public long maxLength() {
    return maxLength;
  }

  public Map<Integer, Long> histogram() {
    return histogram;
  }
}
