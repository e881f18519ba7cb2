package dev.l1ra.core.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The SVD of s·B·A against ΔW formed explicitly. */
class LowRankSvdTest {

  static float[] random(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    return x;
  }

  /** s·B·A, [out][in], in double. */
  static double[][] product(float[] b, int out, int r, float[] a, int in, double s) {
    double[][] w = new double[out][in];
    for (int i = 0; i < out; i++) {
      for (int j = 0; j < in; j++) {
        double acc = 0;
        for (int k = 0; k < r; k++) {
          acc += (double) b[i * r + k] * a[k * in + j];
        }
        w[i][j] = s * acc;
      }
    }
    return w;
  }

  /** max |U·diag(σ)·Vᵀ − w|. */
  static double reconstructionError(LowRankSvd.Result f, double[][] w) {
    double err = 0;
    for (int i = 0; i < w.length; i++) {
      for (int j = 0; j < w[0].length; j++) {
        double acc = 0;
        for (int k = 0; k < f.sigma().length; k++) {
          acc += f.u()[i][k] * f.sigma()[k] * f.v()[j][k];
        }
        err = Math.max(err, Math.abs(acc - w[i][j]));
      }
    }
    return err;
  }

  /** max |XᵀX − I| over the columns with σ > 0. */
  static double orthonormalityError(double[][] x, double[] sigma) {
    double err = 0;
    for (int p = 0; p < sigma.length; p++) {
      for (int q = 0; q < sigma.length; q++) {
        if (sigma[p] == 0 || sigma[q] == 0) {
          continue;
        }
        double d = 0;
        for (double[] row : x) {
          d += row[p] * row[q];
        }
        err = Math.max(err, Math.abs(d - (p == q ? 1 : 0)));
      }
    }
    return err;
  }

  @Test
  void factorsReproduceTheProductAndAreOrthonormal() {
    int out = 50;
    int r = 6;
    int in = 40;
    float[] b = random(out * r, 1);
    float[] a = random(r * in, 2);
    LowRankSvd.Result f = LowRankSvd.of(b, out, r, a, in, 2.5);
    double[][] w = product(b, out, r, a, in, 2.5);
    assertTrue(reconstructionError(f, w) < 1e-10, "U·Σ·Vᵀ = s·B·A");
    assertTrue(orthonormalityError(f.u(), f.sigma()) < 1e-10);
    assertTrue(orthonormalityError(f.v(), f.sigma()) < 1e-10);
    for (int k = 1; k < r; k++) {
      assertTrue(f.sigma()[k - 1] >= f.sigma()[k], "descending");
    }
    double energy = 0;
    double frob = 0;
    for (double s : f.sigma()) {
      energy += s * s;
    }
    for (double[] row : w) {
      for (double x : row) {
        frob += x * x;
      }
    }
    assertEquals(frob, energy, 1e-9 * frob, "Σσ² = ‖ΔW‖²_F");
  }

  @Test
  void knownSingularValuesOfADiagonalProduct() {
    // B = [e0·3, e1·1, e2·2] (out 4), A = identity rows (in 3): ΔW has σ = 3, 2, 1
    float[] b = {3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    float[] a = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    LowRankSvd.Result f = LowRankSvd.of(b, 4, 3, a, 3, 1);
    assertEquals(3, f.sigma()[0], 1e-12);
    assertEquals(2, f.sigma()[1], 1e-12);
    assertEquals(1, f.sigma()[2], 1e-12);
  }

  @Test
  void rankDeficientAndZeroFactors() {
    int out = 20;
    int r = 4;
    int in = 15;
    float[] b = random(out * r, 3);
    for (int i = 0; i < out; i++) {
      b[i * r + 3] = b[i * r + 1]; // column 3 repeats column 1: rank 3
    }
    float[] a = random(r * in, 4);
    LowRankSvd.Result f = LowRankSvd.of(b, out, r, a, in, 1);
    assertTrue(f.sigma()[3] < 1e-6 * f.sigma()[0], "one zero singular value: " + f.sigma()[3]);
    assertTrue(reconstructionError(f, product(b, out, r, a, in, 1)) < 1e-10);

    LowRankSvd.Result zero = LowRankSvd.of(new float[out * r], out, r, a, in, 1);
    for (double s : zero.sigma()) {
      assertEquals(0, s, 0.0, "B = 0 (a fresh LoRA): ΔW = 0");
    }
  }

  @Test
  void wrongSizesAreNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LowRankSvd.of(new float[5], 2, 3, new float[6], 2, 1));
    assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
  }
}
