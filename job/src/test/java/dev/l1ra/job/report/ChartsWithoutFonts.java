package dev.l1ra.job.report;

import java.nio.file.Path;
import java.util.List;

/** Draws a line chart and a heat-map into the folder given as the argument (ChartsTest's child). */
public final class ChartsWithoutFonts {
  private ChartsWithoutFonts() {}

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    boolean lines =
        Charts.lines(
            dir.resolve("lines.png"),
            "loss: no fonts",
            "step",
            "loss",
            List.of(new Charts.Series("train", List.of(new double[] {0, 2}, new double[] {9, 1}))));
    boolean heat =
        Charts.heatmap(
            dir.resolve("heat.png"),
            "ranks",
            List.of("layer 0", "layer 1"),
            List.of("q", "v"),
            new double[][] {{1, 2}, {3, 4}});
    System.out.println("written: " + lines + " " + heat);
  }
}
