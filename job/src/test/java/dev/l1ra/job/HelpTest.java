package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code --help} of every command names every option the command accepts, and nothing else. */
class HelpTest {
  /** Runs the CLI's dispatcher and returns what it printed. */
  private static String dispatch(String... argv) {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.dispatch(argv));
    } finally {
      System.setOut(out);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  /** The options a command's parser accepts, as its unknown-option error lists them. */
  private static List<String> accepted(String command) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Main.dispatch(new String[] {command, "--no-such-option", "x"}));
    assertTrue(e.getMessage().contains("unknown option --no-such-option"), e.getMessage());
    List<String> options = new ArrayList<>();
    Matcher m = Pattern.compile("--[a-z-]+").matcher(e.getMessage());
    while (m.find()) {
      if (!m.group().equals("--no-such-option")) {
        options.add(m.group());
      }
    }
    return options;
  }

  @Test
  void everyCommandsHelpNamesEveryOptionItAccepts() {
    for (String c : Help.COMMANDS) {
      String help = dispatch(c, "--help");
      assertTrue(help.startsWith("usage: " + c + " "), help);
      List<String> options = accepted(c);
      assertFalse(options.isEmpty(), c);
      for (String o : options) {
        assertTrue(help.contains(o + " "), c + " --help does not name " + o + ":\n" + help);
      }
    }
  }

  @Test
  void helpAnywhereAfterTheCommandAndWithoutOne() {
    assertTrue(dispatch("train", "conf/x.yaml", "-h").startsWith("usage: train "));
    String all = dispatch("--help");
    for (String c : Help.COMMANDS) {
      assertTrue(all.contains("\n  " + c + " "), "overview omits " + c + ":\n" + all);
    }
  }

  @Test
  void noTestHooksForUsers() {
    for (String c : List.of("run", "train")) {
      assertFalse(dispatch(c, "--help").contains("fail-once"));
      assertFalse(accepted(c).contains("--fail-once"), c + " accepts --fail-once");
    }
  }
}
