package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.l1ra.core.testing.Fixtures;
import dev.l1ra.model.parity.FixtureParity;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The GPU parity command's checks pass on the CPU (the fixtures' own machine), all 48 of them. */
class ParityCommandTest {
  @Test
  void everyCheckPassesOnTheCpu() {
    List<FixtureParity.Check> checks =
        FixtureParity.run(Fixtures.model("tiny-llama3").getParent(), Device.cpu());
    assertEquals(48, checks.size());
    for (FixtureParity.Check c : checks) {
      assertTrue(c.passed(), c.toString());
    }
  }

  @Test
  void aMissingFixtureFolderIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ParityCommand.run(new String[] {"--fixtures", "/nonexistent", "--device", "cpu"}));
    assertTrue(e.getMessage().contains("/nonexistent"), e.getMessage());
  }
}
