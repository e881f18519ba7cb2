package dev.l1ra.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When evaluations, checkpoints and L1RA events happen if steps run in rounds. */
class RoundScheduleTest {

  @Test
  void somethingDueInsideARoundHappensAtItsEnd() {
    assertTrue(Trainer.dueWithin(6, 4, 8), "step 6 lies in (4, 8]");
    assertFalse(Trainer.dueWithin(6, 0, 4));
    assertTrue(Trainer.dueWithin(4, 0, 4), "the round's last step counts");
    assertFalse(Trainer.dueWithin(4, 4, 7), "its first does not (it ended the previous round)");
    assertFalse(Trainer.dueWithin(0, 0, 100), "0: never");
  }

  @Test
  void oneStepRoundsAreTheSyncSchedule() {
    for (int every : new int[] {1, 3, 5}) {
      for (int step = 0; step < 20; step++) {
        assertEquals((step + 1) % every == 0, Trainer.dueWithin(every, step, step + 1));
      }
    }
    for (int step = 0; step < 30; step++) {
      int done = step + 1;
      boolean sync = done % 3 == 0 && done < 24 && done > 5;
      assertEquals(sync, L1raController.dueInRound(step, done, 24, 3, 5), "step " + done);
    }
  }

  @Test
  void l1raPlansAtMostOneEventPerRoundAfterWarmupAndNotInTheLast() {
    List<Integer> events = new ArrayList<>();
    for (int from = 0; from < 24; from += 4) {
      if (L1raController.dueInRound(from, from + 4, 24, 3, 5)) {
        events.add(from + 4);
      }
    }
    // due at 3 (warm-up), 6, 9, 12, 15, 18, 21 -> rounds ending 8, 12, 16, 20; 24 is the end
    assertEquals(List.of(8, 12, 16, 20), events);
  }
}
