package dev.l1ra.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModuleId;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Two layers, q (64→64) and down (128→64), heterogeneous ranks; base model 1,000,000 params. */
class RankTableTest {
  static final AdapterLayout LAYOUT =
      new AdapterLayout(
          List.of(
              new AdapterSpec(new ModuleId(0, LinearKind.Q), 4, 16, 64, 64, false),
              new AdapterSpec(new ModuleId(1, LinearKind.Q), 8, 16, 64, 64, false),
              new AdapterSpec(new ModuleId(0, LinearKind.DOWN), 2, 16, 128, 64, false),
              new AdapterSpec(new ModuleId(1, LinearKind.DOWN), 6, 16, 128, 64, false)));

  @Test
  void rowsPerProjectionType() {
    // q: 4·128 + 8·128 = 1536; down: 2·192 + 6·192 = 1536
    assertEquals(
        List.of(
            new RankTable.Row("q", 2, 4, 6.0, 8, 1536),
            new RankTable.Row("down", 2, 2, 4.0, 6, 1536)),
        RankTable.rows(LAYOUT));
  }

  @Test
  void renderedTableIsAlignedAndCarriesTheTotals() {
    String[] lines = RankTable.render(LAYOUT, 1_000_000).split("\n");
    assertEquals(4, lines.length, String.join("\n", lines));
    assertTrue(lines[0].startsWith("module"), lines[0]);
    assertEquals(lines[0].length(), lines[1].length(), "header and rows share column widths");
    assertEquals(lines[1].length(), lines[2].length());
    assertTrue(lines[1].matches("q\\s+2\\s+4\\s+6\\.00\\s+8\\s+1,536\\s+0\\.1536%"), lines[1]);
    assertTrue(lines[2].matches("down\\s+2\\s+2\\s+4\\.00\\s+6\\s+1,536\\s+0\\.1536%"), lines[2]);
    assertTrue(lines[3].startsWith("total"), lines[3]);
    assertTrue(lines[3].contains("5.00"), "mean rank 20/4: " + lines[3]);
    assertTrue(lines[3].contains("3,072") && lines[3].contains("0.3072%"), lines[3]);
    assertTrue(lines[3].endsWith("(Σr = 20)"), lines[3]);
    assertEquals(
        lines[1].indexOf("1,536") + 5, lines[3].indexOf("3,072") + 5, "params column aligned");
  }
}
