package dev.l1ra.core.config;

import java.util.List;

/** A run configuration that cannot be used; the message names the key, the value and the fix. */
public class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Throws when {@code ok} is false: "config key {key} = {value}: {rule}". */
  public static void check(boolean ok, String key, Object value, String rule) {
    if (!ok) {
      throw new ConfigException("config key " + key + " = " + value + ": " + rule);
    }
  }

  /** "config key {key} = {value}: not one of [known, ...]", for a value outside a fixed set. */
  public static ConfigException notOneOf(String key, Object value, List<?> known) {
    return new ConfigException("config key " + key + " = " + value + ": not one of " + known);
  }

  /** An optional count: absent is 0 ("not set"); a given value must be > 0. */
  public static int zeroIfAbsent(String key, Integer value, String rule) {
    check(value == null || value > 0, key, value, rule);
    return value == null ? 0 : value;
  }

  /** An optional amount: absent is 0 ("not set"); a given value must be > 0. */
  public static double zeroIfAbsent(String key, Double value, String rule) {
    check(value == null || value > 0, key, value, rule);
    return value == null ? 0 : value;
  }
}
