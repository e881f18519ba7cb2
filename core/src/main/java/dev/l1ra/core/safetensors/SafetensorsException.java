package dev.l1ra.core.safetensors;

import java.nio.file.Path;

/**
 * A safetensors file (or sharded checkpoint) that cannot be read as asked; names file and tensor.
 */
public class SafetensorsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SafetensorsException(String message) {
    super(message);
  }

  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }

  static SafetensorsException of(Path file, String problem) {
    return new SafetensorsException("safetensors file " + file + ": " + problem);
  }

  static SafetensorsException of(Path file, String tensor, String problem) {
    return new SafetensorsException(
        "safetensors file " + file + ", tensor \"" + tensor + "\": " + problem);
  }
}
