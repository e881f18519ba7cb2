package dev.l1ra.job.spark.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.l1ra.core.safetensors.HalfFloats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The payload layout: exact fp32, bounded fp16/bf16 error, chunks, deltas, sums, big payloads. */
class PayloadCodecTest {
  /** Tensors of varied sizes (one empty) whose magnitudes span 1e-9 .. 10, as gradients do. */
  static List<float[]> tensors(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<float[]> out = new ArrayList<>();
    int[] sizes = {1000, 1, 0, 4096, 333, 2048, 77};
    for (int i = 0; i < sizes.length; i++) {
      float scale = (float) Math.pow(10, -9 + i * 10.0 / sizes.length);
      float[] t = new float[sizes[i]];
      for (int j = 0; j < t.length; j++) {
        t[j] = (float) (r.nextGaussian() * scale);
      }
      out.add(t);
    }
    return out;
  }

  static float[] flat(List<float[]> ts) {
    int n = ts.stream().mapToInt(t -> t.length).sum();
    float[] f = new float[n];
    int at = 0;
    for (float[] t : ts) {
      System.arraycopy(t, 0, f, at, t.length);
      at += t.length;
    }
    return f;
  }

  @Test
  void fp32RoundTripIsExactWithHeaderFields() {
    List<float[]> ts = tensors(1);
    ts.get(0)[3] = Float.NaN;
    ts.get(0)[4] = Float.NEGATIVE_INFINITY;
    ts.get(0)[5] = -0f;
    Payload p = PayloadCodec.encode(ts, PayloadDtype.FP32, 123.5, 7, -2.25);
    Payload q = Payload.wrap(p.bytes().clone());
    assertEquals(PayloadDtype.FP32, q.dtype());
    assertEquals(ts.size(), q.segments());
    assertEquals(123.5, q.weight());
    assertArrayEquals(new double[] {7, -2.25}, q.scalars());
    assertEquals(0, q.chunk());
    assertEquals(1, q.chunks());
    assertFalse(q.weightedSum());
    List<float[]> back = PayloadCodec.decodeTensors(q);
    for (int i = 0; i < ts.size(); i++) {
      assertEquals(ts.get(i).length, q.segmentLength(i));
      for (int j = 0; j < ts.get(i).length; j++) {
        assertEquals(
            Float.floatToRawIntBits(ts.get(i)[j]), Float.floatToRawIntBits(back.get(i)[j]));
      }
    }
    assertArrayEquals(flat(ts), PayloadCodec.decode(q));
    assertEquals(48 + 16 + 8 * ts.size() + 4 * flat(ts).length, p.bytes().length);
  }

  @Test
  void fp16AndBf16StayWithinTheirRoundingBounds() {
    List<float[]> ts = tensors(2);
    for (PayloadDtype d : List.of(PayloadDtype.FP16, PayloadDtype.BF16)) {
      List<float[]> back = PayloadCodec.decodeTensors(PayloadCodec.encode(ts, d, 1));
      for (int i = 0; i < ts.size(); i++) {
        float max = 0;
        for (float v : ts.get(i)) {
          max = Math.max(max, Math.abs(v));
        }
        for (int j = 0; j < ts.get(i).length; j++) {
          float x = ts.get(i)[j];
          double err = Math.abs(back.get(i)[j] - x);
          // fp16: half an ulp of 11 bits, plus half the subnormal step of the scaled segment
          double bound =
              d == PayloadDtype.FP16
                  ? Math.abs(x) * 0x1p-11 + max * 0x1p-38
                  : Math.abs(x) * 0x1p-8 + Float.MIN_NORMAL;
          assertTrue(err <= bound, d + " tensor " + i + "[" + j + "]: " + x + " -> " + err);
        }
      }
    }
  }

  @Test
  void fastHalfConversionMatchesTheReference() {
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < 2_000_000; i++) {
      float f =
          i % 2 == 0
              ? Float.intBitsToFloat(r.nextInt())
              : (float) (r.nextGaussian() * Math.pow(2, r.nextInt(-30, 20)));
      if (!Float.isNaN(f)) {
        assertEquals(HalfFloats.floatToHalf(f), Elements.toHalf(f), "at " + f);
      }
    }
    assertEquals(0x7bff, Elements.toHalf(65519.99f) & 0xffff);
    assertEquals(0x7c00, Elements.toHalf(65520f) & 0xffff);
  }

  @Test
  void chunksCoverTheConcatenationAndEqualSlicesOfTheWhole() {
    List<float[]> ts = tensors(4);
    float[] all = flat(ts);
    Payload whole = PayloadCodec.encode(ts, PayloadDtype.FP32, 2, 5);
    for (int chunks : new int[] {1, 2, 3, 7, 64}) {
      List<Payload> cs = PayloadCodec.encodeChunks(ts, chunks, PayloadDtype.FP32, 2, 5);
      float[] back = new float[all.length];
      for (int c = 0; c < chunks; c++) {
        Payload p = cs.get(c);
        assertEquals(c, p.chunk());
        assertEquals(PayloadCodec.chunkStart(all.length, c, chunks), p.offset());
        assertEquals(2, p.weight());
        assertEquals(5, p.scalar(0));
        assertArrayEquals(p.bytes(), PayloadCodec.slice(whole, c, chunks).bytes(), "chunk " + c);
        PayloadCodec.decodeInto(p, back);
      }
      assertArrayEquals(all, back, chunks + " chunks");
    }
  }

  @Test
  void deltasAgainstABasePayload() {
    List<float[]> base = tensors(5);
    List<float[]> now = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(6);
    for (float[] t : base) {
      float[] n = t.clone();
      for (int j = 0; j < n.length; j++) {
        n[j] += (float) (r.nextGaussian() * 1e-4);
      }
      now.add(n);
    }
    Payload b = PayloadCodec.encode(base, PayloadDtype.FP32, 1);
    float[] nowFlat = flat(now);
    float[] baseFlat = flat(base);
    for (PayloadDtype d : PayloadDtype.values()) {
      float[] delta = new float[nowFlat.length];
      for (Payload p : PayloadCodec.encodeDeltaChunks(now, b, 3, d, 1)) {
        PayloadCodec.decodeInto(p, delta);
      }
      for (int i = 0; i < delta.length; i++) {
        float exact = nowFlat[i] - baseFlat[i];
        double bound = d == PayloadDtype.FP32 ? 0 : Math.abs(exact) * 0x1p-8 + 1e-12;
        assertTrue(Math.abs(delta[i] - exact) <= bound, d + " at " + i);
      }
    }
    assertThrows(
        IllegalArgumentException.class,
        () ->
            PayloadCodec.encodeDeltaChunks(
                now, PayloadCodec.encode(base, PayloadDtype.FP16, 1), 1, PayloadDtype.FP16, 1));
  }

  @Test
  void sumsAreWeightedInCallOrderAndComposable() {
    List<float[]> a = tensors(7);
    List<float[]> b = tensors(8);
    PayloadSum s = new PayloadSum();
    s.add(PayloadCodec.encode(a, PayloadDtype.FP32, 3, 1, 10));
    s.add(PayloadCodec.encode(b, PayloadDtype.FP32, 0.5, 2, 20));
    float[] fa = flat(a);
    float[] fb = flat(b);
    float[] expect = new float[fa.length];
    for (int i = 0; i < fa.length; i++) {
      expect[i] = 3f * fa[i] + 0.5f * fb[i];
    }
    assertArrayEquals(expect, s.values());
    assertEquals(3.5, s.weight());
    assertArrayEquals(new double[] {3, 30}, s.scalars());
    Payload summed = s.toPayload(PayloadDtype.FP32);
    assertTrue(summed.weightedSum());
    PayloadSum again = new PayloadSum().add(summed);
    assertArrayEquals(expect, again.values(), "a weighted sum is not weighted twice");
    assertEquals(3.5, again.weight());
  }

  @Test
  void payloadsOfDifferentLayoutsDoNotAdd() {
    PayloadSum s = new PayloadSum().add(PayloadCodec.encode(tensors(1), PayloadDtype.FP32, 1));
    Payload other = PayloadCodec.encode(List.of(new float[5]), PayloadDtype.FP32, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.add(other));
    assertTrue(e.getMessage().contains("different layouts"), e.getMessage());
  }

  @Test
  void badBytesAreRefusedWithAReason() {
    byte[] junk = new byte[64];
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Payload.wrap(junk))
            .getMessage()
            .contains("not an l1ra payload"));
    byte[] cut = PayloadCodec.encode(tensors(1), PayloadDtype.FP16, 1).bytes();
    byte[] shorter = Arrays.copyOf(cut, cut.length - 2);
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Payload.wrap(shorter))
            .getMessage()
            .contains("its header describes"));
  }

  @Test
  void payloadsOverOneHundredMegabytes() {
    float[] big = new float[30_000_000]; // 120 MB as fp32
    SplittableRandom r = new SplittableRandom(9);
    for (int i = 0; i < big.length; i += 997) {
      big[i] = (float) r.nextGaussian();
    }
    big[big.length - 1] = 42f;
    List<float[]> ts = List.of(new float[] {1, 2}, big);
    Payload p = PayloadCodec.encode(ts, PayloadDtype.FP32, 1);
    assertTrue(p.bytes().length > 120_000_000);
    float[] back = PayloadCodec.decode(p);
    assertEquals(42f, back[back.length - 1]);
    assertEquals(big[997 * 1000], back[2 + 997 * 1000]);
    List<Payload> halves = PayloadCodec.encodeChunks(ts, 4, PayloadDtype.FP16, 1);
    float[] h = new float[back.length];
    for (Payload c : halves) {
      PayloadCodec.decodeInto(c, h);
    }
    assertEquals(42f, h[h.length - 1]);
  }
}
