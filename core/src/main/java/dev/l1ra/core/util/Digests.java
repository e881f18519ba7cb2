package dev.l1ra.core.util;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests as hex text, for fingerprints that name what they describe. */
public final class Digests {
  /** Hex digits kept in fingerprints: 64 bits, plenty to tell runs and inputs apart. */
  public static final int SHORT = 16;

  private Digests() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  /** The first {@link #SHORT} hex digits of SHA-256 over the text's UTF-8 bytes. */
  public static String of(String text) {
    return hex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** The first {@link #SHORT} hex digits of SHA-256 over a file's bytes (read as a stream). */
  public static String ofFile(Path file) {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " to fingerprint it: " + e, e);
    }
    return hex(md.digest());
  }

  /** The first {@link #SHORT} hex digits of a digest. */
  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest).substring(0, SHORT);
  }
}
