package dev.l1ra.core.lora;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * PEFT's module-name matching rules (peft/utils/other.py {@code get_pattern_key} and
 * tuners_utils.py {@code check_target_module_exists}), so that adapters resolve here exactly as
 * PEFT resolves them.
 */
public final class PatternKeys {
  private PatternKeys() {}

  /**
   * The first key, in map order, that matches {@code moduleName} as PEFT's {@code
   * re.match(rf"(.*\.)?({key})$", name)}: the key (a regular expression) must match a suffix of the
   * name that starts at a dot boundary. First match wins, so order matters when several keys match.
   */
  public static Optional<String> patternKey(Map<String, ?> patterns, String moduleName) {
    for (String key : patterns.keySet()) {
      if (compile("(.*\\.)?(" + key + ")", key).matcher(moduleName).matches()) {
        return Optional.of(key);
      }
    }
    return Optional.empty();
  }

  /** PEFT's list form of target_modules: the name equals the key or ends with {@code "." + key}. */
  public static boolean suffixMatch(String key, String moduleName) {
    return moduleName.equals(key) || moduleName.endsWith("." + key);
  }

  /** PEFT's string form of target_modules: {@code re.fullmatch(regex, name)}. */
  public static boolean regexMatch(String regex, String moduleName) {
    return compile(regex, regex).matcher(moduleName).matches();
  }

  private static Pattern compile(String regex, String key) {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "pattern key \"" + key + "\" is not a valid regular expression: " + e.getDescription());
    }
  }
}
