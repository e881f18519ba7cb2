package dev.l1ra.model.fused;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A TorchScript archive for a parameter-free module, written from Java: what {@code
 * torch.jit.script(module).save(path)} writes for such a module, minus records the loader treats as
 * optional (source-range debug pickles, serialization id), so that {@code torch.jit.load} (and
 * DJL's {@code Model.load}) accept it without Python.
 *
 * <p>Layout (see PyTorch {@code torch/csrc/jit/serialization/export_module.cpp}, {@code
 * import.cpp}, {@code import_source.cpp}, {@code caffe2/serialize/inline_container.cc}), every
 * entry stored and 64-byte aligned, under one folder {@code archive/}:
 *
 * <ul>
 *   <li>{@code data.pkl}: pickle of the module object: {@code GLOBAL '__torch__.a.b Name'},
 *       EMPTY_TUPLE, NEWOBJ, then its state {@code {'training': True}} and BUILD. The loader finds
 *       the class by its qualified name, creates the object and fills one slot per attribute.
 *   <li>{@code code/__torch__/a/b.py}: the class source in TorchScript's Python subset: {@code
 *       class Name(Module):} with {@code __parameters__ = []}, {@code __buffers__ = []}, {@code
 *       training : bool} and the given methods. The file path is the class's qualifier with dots as
 *       slashes; the loader compiles every method in it.
 *   <li>{@code constants.pkl}: an empty tuple (no tensor constants).
 *   <li>{@code version}: the file-format version in ASCII; {@value #FILE_FORMAT_VERSION} (torch's
 *       kProducedFileFormatVersion since 1.12 and still the highest 2.7.1 reads) says the code uses
 *       today's operator semantics, so the loader applies no operator upgraders.
 *   <li>{@code byteorder}: {@code little}.
 * </ul>
 *
 * Instances are immutable; {@link #bytes()} is deterministic (same source, same bytes).
 */
public final class TorchScriptArchive {
  /** The file-format version written to {@code version}. */
  public static final int FILE_FORMAT_VERSION = 10;

  static final String ROOT = "archive/";
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final String qualifiedName;
  private final String methods;

  private TorchScriptArchive(String qualifiedName, String methods) {
    this.qualifiedName = qualifiedName;
    this.methods = methods;
  }

  /**
   * A module class with the given methods.
   *
   * @param qualifiedName the TorchScript class name, {@code __torch__.} followed by dotted
   *     identifiers, e.g. {@code __torch__.l1ra.Sdpa}
   * @param methods the methods' source, unindented (each {@code def} at column 0, bodies indented
   *     consistently); {@code self} needs no annotation. TorchScript's Python subset: tensors are
   *     {@code Tensor}, {@code Optional[...]} is known, {@code torch.xxx} names aten operators.
   */
  public static TorchScriptArchive module(String qualifiedName, String methods) {
    String[] parts = qualifiedName.split("\\.", -1);
    if (parts.length < 2 || !parts[0].equals("__torch__")) {
      throw new IllegalArgumentException(
          "TorchScript class name \"" + qualifiedName + "\" must start with \"__torch__.\"");
    }
    for (String p : parts) {
      if (!IDENTIFIER.matcher(p).matches()) {
        throw new IllegalArgumentException(
            "TorchScript class name \"" + qualifiedName + "\" has a bad part \"" + p + "\"");
      }
    }
    if (!methods.strip().startsWith("def ")) {
      throw new IllegalArgumentException("module source must start with a def, got: " + methods);
    }
    return new TorchScriptArchive(qualifiedName, methods);
  }

  public String qualifiedName() {
    return qualifiedName;
  }

  /** The class's simple name (after the last dot). */
  public String simpleName() {
    return qualifiedName.substring(qualifiedName.lastIndexOf('.') + 1);
  }

  /** The class's qualifier, i.e. the Python "module" the loader looks up. */
  String qualifier() {
    return qualifiedName.substring(0, qualifiedName.lastIndexOf('.'));
  }

  /** The code entry's path inside the archive, e.g. {@code archive/code/__torch__/l1ra.py}. */
  public String codePath() {
    return ROOT + "code/" + qualifier().replace('.', '/') + ".py";
  }

  /** The class source as written to {@link #codePath()}. */
  public String classSource() {
    StringBuilder b = new StringBuilder();
    b.append("class ").append(simpleName()).append("(Module):\n");
    b.append("  __parameters__ = []\n");
    b.append("  __buffers__ = []\n");
    b.append("  training : bool\n");
    for (String line : methods.strip().split("\n", -1)) {
      b.append(line.isBlank() ? "" : "  " + line.stripTrailing()).append('\n');
    }
    return b.toString();
  }

  /** The pickled module object: an instance of the class in training mode. */
  byte[] dataPickle() {
    return new PickleWriter()
        .global(qualifier(), simpleName())
        .emptyTuple()
        .newObj()
        .emptyDict()
        .mark()
        .string("training")
        .bool(true)
        .setItems()
        .build()
        .finish();
  }

  /** The pickled constants table: an empty tuple. */
  static byte[] constantsPickle() {
    return new PickleWriter().emptyTuple().finish();
  }

  /** The whole archive. */
  public byte[] bytes() {
    return new StoredZipWriter()
        .add(ROOT + "data.pkl", dataPickle())
        .add(codePath(), classSource().getBytes(StandardCharsets.UTF_8))
        .add(ROOT + "constants.pkl", constantsPickle())
        .add(ROOT + "version", (FILE_FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII))
        .add(ROOT + "byteorder", "little".getBytes(StandardCharsets.US_ASCII))
        .finish();
  }

  /**
   * Writes the archive into {@code dir} as {@code <SimpleName>-<content hash>.pt} and returns its
   * path. An existing file with the same bytes is reused; otherwise the bytes go to a temporary
   * file that is then moved into place, so concurrent writers (other JVMs) never see a partial
   * archive.
   */
  public Path writeTo(Path dir) {
    byte[] data = bytes();
    Path target = dir.resolve(simpleName() + "-" + sha256Prefix(data) + ".pt");
    try {
      if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), data)) {
        return target;
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, simpleName(), ".tmp");
      try {
        Files.write(tmp, data);
        move(tmp, target);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "could not write TorchScript archive " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Where archives are cached: {@code <l1ra.cache.dir>/torchscript} when that system property is
   * set, else {@code <java.io.tmpdir>/l1ra-<user.name>/torchscript}.
   */
  public static Path defaultCacheDir() {
    String dir = System.getProperty("l1ra.cache.dir");
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir, "torchscript");
    }
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
    return Path.of(System.getProperty("java.io.tmpdir"), "l1ra-" + user, "torchscript");
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static String sha256Prefix(byte[] data) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(data);
      return HexFormat.of().formatHex(h, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "TorchScriptArchive[" + qualifiedName + "]";
  }
}
