package dev.l1ra.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  @Test
  void halfRoundTripsEveryFiniteValue() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short h = (short) bits;
      float f = HalfFloats.halfToFloat(h);
      if (Float.isNaN(f)) {
        continue;
      }
      assertEquals(h, HalfFloats.floatToHalf(f), "half 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void knownHalfValues() {
    assertEquals(1.0f, HalfFloats.halfToFloat((short) 0x3c00));
    assertEquals(-2.0f, HalfFloats.halfToFloat((short) 0xc000));
    assertEquals(65504f, HalfFloats.halfToFloat((short) 0x7bff));
    assertEquals(5.9604645e-8f, HalfFloats.halfToFloat((short) 0x0001));
    assertEquals((short) 0x7c00, HalfFloats.floatToHalf(70000f), "overflow to +inf");
    // 1 + 2^-11 is exactly halfway between 1 and the next half: ties to even (1.0)
    assertEquals((short) 0x3c00, HalfFloats.floatToHalf(1f + 0x1p-11f));
    assertEquals((short) 0x3c02, HalfFloats.floatToHalf(1f + 3 * 0x1p-11f));
  }

  @Test
  void bf16IsTheHighHalfOfFloat() {
    assertEquals(1.0f, HalfFloats.bf16ToFloat((short) 0x3f80));
    assertEquals((short) 0x3f80, HalfFloats.floatToBf16(1.0f));
    assertEquals((short) 0x4049, HalfFloats.floatToBf16(3.14159f));
    for (int bits = 0; bits < 0x10000; bits += 7) {
      float f = HalfFloats.bf16ToFloat((short) bits);
      if (!Float.isNaN(f)) {
        assertEquals((short) bits, HalfFloats.floatToBf16(f));
      }
    }
  }
}
