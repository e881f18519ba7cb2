package dev.l1ra.core.lora;

import dev.l1ra.core.hf.ModuleId;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one translator between our module ids and PEFT's on-disk tensor keys, e.g. {@code
 * base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight} (A is r×in, B is out×r). The L1RA
 * gate travels as {@code ...q_proj.lora_c} in our own checkpoints; PEFT exports fold it into B.
 */
public final class PeftNames {
  /** Prefix PEFT puts before the base model's module names. */
  public static final String PREFIX = "base_model.model.";

  public static final String LORA_A = "lora_A";
  public static final String LORA_B = "lora_B";
  public static final String LORA_C = "lora_c";

  private static final Pattern KEY =
      Pattern.compile(
          Pattern.quote(PREFIX)
              + "(.+)\\.(lora_A|lora_B|lora_c|lora_E)(?:\\.([A-Za-z0-9_]+))?(?:\\.weight)?");

  private PeftNames() {}

  /**
   * A parsed PEFT adapter key: module and part ({@code lora_A}, {@code lora_B}, {@code lora_c}).
   */
  public record Key(ModuleId module, String part) {}

  public static String loraA(ModuleId id) {
    return PREFIX + id.hfName() + "." + LORA_A + ".weight";
  }

  public static String loraB(ModuleId id) {
    return PREFIX + id.hfName() + "." + LORA_B + ".weight";
  }

  public static String gate(ModuleId id) {
    return PREFIX + id.hfName() + "." + LORA_C;
  }

  /**
   * Parses an adapter key. PEFT strips the adapter name on save, but keys with one ({@code
   * lora_A.default.weight}) are accepted too.
   *
   * @return empty when the key is not a LoRA tensor of a decoder-layer projection
   */
  public static Optional<Key> parse(String key) {
    Matcher m = KEY.matcher(key);
    if (!m.matches()) {
      return Optional.empty();
    }
    return ModuleId.parse(m.group(1)).map(id -> new Key(id, m.group(2)));
  }
}
