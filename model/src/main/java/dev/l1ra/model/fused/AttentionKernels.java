package dev.l1ra.model.fused;

import ai.djl.Device;
import dev.l1ra.core.config.AttentionKind;
import dev.l1ra.model.llama.AttentionKernel;
import dev.l1ra.model.llama.PlainAttention;
import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an attention kernel is chosen ({@link AttentionKind}): {@code auto} (the default:
 * fused where it loads, else plain with a WARN naming the cause), {@code fused} (fused or an error)
 * and {@code plain} (the reference kernel).
 */
public final class AttentionKernels {
  private static final Logger LOG = LoggerFactory.getLogger(AttentionKernels.class);

  private AttentionKernels() {}

  /**
   * Creates a kernel for {@code device}. A fused kernel owns a small native module: close it (it is
   * {@link AutoCloseable}) when the model that uses it is closed; {@link #closeQuietly} does so for
   * any kernel.
   *
   * @throws IllegalStateException for {@code fused} when the fused kernel does not load
   */
  public static AttentionKernel create(AttentionKind kind, Device device) {
    return create(kind, device, TorchScriptArchive.defaultCacheDir());
  }

  /**
   * As {@link #create(AttentionKind, Device)}, with the TorchScript archive cached in {@code
   * cacheDir}.
   */
  public static AttentionKernel create(AttentionKind kind, Device device, Path cacheDir) {
    return switch (kind) {
      case PLAIN -> new PlainAttention();
      case FUSED -> load(device, cacheDir);
      case AUTO -> fusedOrPlain(device, cacheDir);
    };
  }

  /**
   * As {@link #create(AttentionKind, Device)} for a name (the bench's {@code --attention}).
   *
   * @param name {@code auto}, {@code fused} or {@code plain} (case-insensitive; null means auto)
   * @throws IllegalArgumentException for an unknown name
   */
  public static AttentionKernel create(String name, Device device) {
    return create(name, device, TorchScriptArchive.defaultCacheDir());
  }

  /**
   * As {@link #create(String, Device)}, with the TorchScript archive cached in {@code cacheDir}.
   */
  public static AttentionKernel create(String name, Device device, Path cacheDir) {
    return create(kind(name), device, cacheDir);
  }

  /** The kernel choice a name gives: {@code auto}, {@code fused} or {@code plain} (see above). */
  public static AttentionKind kind(String name) {
    String n = name == null ? "auto" : name.trim().toLowerCase(Locale.ROOT);
    for (AttentionKind kind : AttentionKind.values()) {
      if (kind.toString().equals(n)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "attention kernel \"" + name + "\" is not one of auto, fused, plain");
  }

  private static FusedAttention load(Device device, Path cacheDir) {
    return FusedAttention.load(device, cacheDir, FusedAttention.GroupedHeads.AUTO);
  }

  private static AttentionKernel fusedOrPlain(Device device, Path cacheDir) {
    try {
      FusedAttention kernel = load(device, cacheDir);
      LOG.info("attention: fused scaled_dot_product_attention on {}", device);
      return kernel;
    } catch (RuntimeException | LinkageError e) {
      LOG.warn(
          "attention: fused kernel unavailable on {}, using plain attention instead. Cause: {}",
          device,
          e.getMessage() == null ? e.toString() : e.getMessage());
      return new PlainAttention();
    }
  }

  /**
   * Whether fused decoder layers on {@code device} run under TorchScript's profiling graph executor
   * (GPU default; {@code -Dl1ra.layers.graphOptimizer=true|false} overrides).
   */
  public static boolean layerGraphOptimizer(Device device) {
    return ScriptedLayers.graphOptimizer(device);
  }

  /** Closes the kernel if it holds native resources. */
  public static void closeQuietly(AttentionKernel kernel) {
    if (kernel instanceof AutoCloseable) {
      try {
        ((AutoCloseable) kernel).close();
      } catch (Exception e) {
        LOG.debug("closing attention kernel {} failed", kernel.name(), e);
      }
    }
  }
}
