package dev.l1ra.model.fused;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few Python pickle (protocol 2) opcodes a TorchScript archive's {@code data.pkl} and {@code
 * constants.pkl} need, written the way PyTorch's own {@code torch/csrc/jit/serialization/
 * pickler.cpp} writes them (no memo: the unpickler does not require one). Calls append opcodes in
 * order; {@link #finish()} appends STOP and returns the bytes.
 */
final class PickleWriter {
  private static final int PROTO = 0x80;
  private static final int GLOBAL = 'c';
  private static final int EMPTY_TUPLE = ')';
  private static final int NEWOBJ = 0x81;
  private static final int EMPTY_DICT = '}';
  private static final int MARK = '(';
  private static final int BINUNICODE = 'X';
  private static final int NEWTRUE = 0x88;
  private static final int NEWFALSE = 0x89;
  private static final int SETITEMS = 'u';
  private static final int BUILD = 'b';
  private static final int STOP = '.';

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  PickleWriter() {
    out.write(PROTO);
    out.write(2);
  }

  /** GLOBAL: pushes {@code module.name} (for TorchScript, the class {@code __torch__...}). */
  PickleWriter global(String module, String name) {
    out.write(GLOBAL);
    ascii(module + "\n" + name + "\n");
    return this;
  }

  PickleWriter emptyTuple() {
    out.write(EMPTY_TUPLE);
    return this;
  }

  /** NEWOBJ: cls, args → cls.__new__(cls, *args). */
  PickleWriter newObj() {
    out.write(NEWOBJ);
    return this;
  }

  PickleWriter emptyDict() {
    out.write(EMPTY_DICT);
    return this;
  }

  PickleWriter mark() {
    out.write(MARK);
    return this;
  }

  /** BINUNICODE: a str, UTF-8 with a 4-byte little-endian length. */
  PickleWriter string(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(BINUNICODE);
    int n = b.length;
    out.write(n);
    out.write(n >>> 8);
    out.write(n >>> 16);
    out.write(n >>> 24);
    out.writeBytes(b);
    return this;
  }

  PickleWriter bool(boolean b) {
    out.write(b ? NEWTRUE : NEWFALSE);
    return this;
  }

  /** SETITEMS: pops key/value pairs down to the last MARK into the dict below it. */
  PickleWriter setItems() {
    out.write(SETITEMS);
    return this;
  }

  /** BUILD: obj, state → obj.__setstate__(state) (TorchScript: one slot per attribute). */
  PickleWriter build() {
    out.write(BUILD);
    return this;
  }

  byte[] finish() {
    out.write(STOP);
    return out.toByteArray();
  }

  private void ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 0x7e || (c < 0x20 && c != '\n')) {
        throw new IllegalArgumentException("pickle GLOBAL names must be printable ASCII: " + s);
      }
    }
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }
}
