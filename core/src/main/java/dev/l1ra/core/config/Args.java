package dev.l1ra.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Command-line flags: {@code --name value}, repeatable {@code --set k=v}, boolean switches. Unknown
 * flags are errors that list the known ones.
 */
public final class Args {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final List<String> sets = new ArrayList<>();
  private final List<String> positional = new ArrayList<>();

  private Args() {}

  /**
   * @param known flags that take a value
   * @param switches flags without a value
   */
  public static Args parse(String command, String[] argv, Set<String> known, Set<String> switches) {
    Args a = new Args();
    for (int i = 0; i < argv.length; i++) {
      String arg = argv[i];
      if (!arg.startsWith("--")) {
        a.positional.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (switches.contains(name)) {
        a.values.put(name, "true");
        continue;
      }
      if (!known.contains(name) && !name.equals("set")) {
        throw new IllegalArgumentException(
            command
                + ": unknown option --"
                + name
                + "; options: "
                + known.stream().sorted().map(k -> "--" + k).toList()
                + (switches.isEmpty()
                    ? ""
                    : " " + switches.stream().sorted().map(k -> "--" + k).toList()));
      }
      if (value == null) {
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException(command + ": option --" + name + " needs a value");
        }
        value = argv[++i];
      }
      if (name.equals("set")) {
        a.sets.add(value);
      } else {
        a.values.put(name, value);
      }
    }
    return a;
  }

  public String get(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  public String require(String command, String name) {
    String v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException(command + ": --" + name + " is required");
    }
    return v;
  }

  /**
   * The run config file: {@code --config FILE} or the first positional argument.
   *
   * @param example a config to name in the error when there is none
   */
  public String configFile(String command, String example) {
    if (has("config")) {
      return get("config", null);
    }
    if (positional.isEmpty()) {
      throw new IllegalArgumentException(command + ": give a config file (e.g. " + example + ")");
    }
    return positional.get(0);
  }

  /** An option converted by {@code parse}; a value it refuses is named with the option. */
  public <T> T get(String name, String dflt, Function<String, T> parse) {
    String v = get(name, dflt);
    try {
      return parse.apply(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + name + " " + v + ": " + e.getMessage(), e);
    }
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public int getInt(String name, int dflt) {
    String v = values.get(name);
    try {
      return v == null ? dflt : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be an integer, got \"" + v + "\"");
    }
  }

  /** An integer option that must be at least 1 (a count or a size). */
  public int getPositive(String name, int dflt) {
    int v = getInt(name, dflt);
    if (v < 1) {
      throw new IllegalArgumentException("--" + name + " must be at least 1, got " + v);
    }
    return v;
  }

  /** {@code --set key=value} overrides, in order. */
  public List<String> sets() {
    return sets;
  }

  public List<String> positional() {
    return positional;
  }
}
