package dev.l1ra.core.config;

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
}
