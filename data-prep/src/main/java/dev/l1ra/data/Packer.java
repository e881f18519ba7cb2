package dev.l1ra.data;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Packs tokenized samples (in id order) greedily into rows of at most seq_len tokens. Each packed
 * row carries position ids that restart at 0 for every sample and segment ids (0, 1, ...) that the
 * trainer turns into a block-diagonal causal mask, so attention stays within a sample. Labels are
 * the samples' own: a sample's first token is a prompt token (-100), so no target crosses a sample
 * boundary. The row id is the first sample's id plus the count ({@code id+3}).
 */
public final class Packer {
  private Packer() {}

  public static List<Tokenized> pack(Iterator<Tokenized> sorted, int seqLen) {
    List<Tokenized> out = new ArrayList<>();
    List<Tokenized> window = new ArrayList<>();
    int used = 0;
    while (sorted.hasNext()) {
      Tokenized t = sorted.next();
      if (used + t.length() > seqLen && !window.isEmpty()) {
        out.add(join(window));
        window.clear();
        used = 0;
      }
      window.add(t);
      used += t.length();
    }
    if (!window.isEmpty()) {
      out.add(join(window));
    }
    return out;
  }

  private static Tokenized join(List<Tokenized> parts) {
    int n = parts.stream().mapToInt(Tokenized::length).sum();
    int[] ids = new int[n];
    int[] labels = new int[n];
    int[] pos = new int[n];
    int[] seg = new int[n];
    int k = 0;
    for (int s = 0; s < parts.size(); s++) {
      Tokenized t = parts.get(s);
      for (int i = 0; i < t.length(); i++, k++) {
        ids[k] = t.inputIds()[i];
        labels[k] = t.labels()[i];
        pos[k] = i;
        seg[k] = s;
      }
    }
    Tokenized first = parts.get(0);
    boolean truncated = parts.stream().anyMatch(Tokenized::truncated);
    return new Tokenized(
        first.id() + "+" + parts.size(), first.split(), ids, labels, pos, seg, truncated, n);
  }
}
