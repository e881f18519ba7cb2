package dev.l1ra.core.linalg;

import java.util.Arrays;

/**
 * The SVD of a low-rank product ΔW = s·B·A (B [out, r], A [r, in], r small) without forming ΔW:
 * thin QR of B and of Aᵀ, then the SVD of the r×r core s·R_B·R_Aᵀ by one-sided Jacobi rotations, in
 * double precision. Costs O((out + in)·r²), so a LoRA adapter of any layer size takes milliseconds.
 */
public final class LowRankSvd {
  private static final double JACOBI_EPS = 1e-15;
  private static final int MAX_SWEEPS = 60;

  /**
   * ΔW = U·diag(σ)·Vᵀ with σ descending.
   *
   * @param sigma the r singular values, largest first (zeros where the rank is lower)
   * @param u [out][r]: left singular vectors as columns (orthonormal where σ > 0)
   * @param v [in][r]: right singular vectors as columns (orthonormal where σ > 0)
   */
  public record Result(double[] sigma, double[][] u, double[][] v) {}

  private LowRankSvd() {}

  /**
   * @param b row-major [out, r]
   * @param a row-major [r, in]
   * @param scale s, multiplied into ΔW
   */
  public static Result of(float[] b, int out, int r, float[] a, int in, double scale) {
    if (b.length != (long) out * r || a.length != (long) r * in) {
      throw new IllegalArgumentException(
          "B has "
              + b.length
              + " values for ["
              + out
              + ", "
              + r
              + "] and A "
              + a.length
              + " for ["
              + r
              + ", "
              + in
              + "]");
    }
    double[][] qb = new double[out][r];
    double[][] rb = thinQr(columns(b, out, r, false), qb);
    double[][] qa = new double[in][r];
    double[][] ra = thinQr(columns(a, r, in, true), qa);
    double[][] core = new double[r][r]; // s·R_B·R_Aᵀ
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < r; j++) {
        double acc = 0;
        for (int k = 0; k < r; k++) {
          acc += rb[i][k] * ra[j][k];
        }
        core[i][j] = scale * acc;
      }
    }
    double[][] um = new double[r][r];
    double[][] vm = new double[r][r];
    double[] sigma = jacobi(core, um, vm);
    Integer[] order = new Integer[r];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (x, y) -> Double.compare(sigma[y], sigma[x]));
    double[] s = new double[r];
    double[][] u = new double[out][r];
    double[][] v = new double[in][r];
    for (int k = 0; k < r; k++) {
      int src = order[k];
      s[k] = sigma[src];
      multiplyColumn(qb, um, src, u, k);
      multiplyColumn(qa, vm, src, v, k);
    }
    return new Result(s, u, v);
  }

  /** The r columns of a row-major [rows, cols] matrix (or of its transpose), each a vector. */
  private static double[][] columns(float[] m, int rows, int cols, boolean transpose) {
    int n = transpose ? rows : cols;
    int len = transpose ? cols : rows;
    double[][] c = new double[n][len];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        if (transpose) {
          c[i][j] = m[i * cols + j];
        } else {
          c[j][i] = m[i * cols + j];
        }
      }
    }
    return c;
  }

  /**
   * Modified Gram–Schmidt with one re-orthogonalisation pass: columns → Q (written into q,
   * [len][n]) and the upper-triangular R (returned, [n][n]). A column in the span of the earlier
   * ones gets a zero Q column and a zero diagonal, so Q·R reproduces the input exactly in either
   * case.
   */
  private static double[][] thinQr(double[][] cols, double[][] q) {
    int n = cols.length;
    double[][] r = new double[n][n];
    double[][] qc = new double[n][];
    for (int j = 0; j < n; j++) {
      double[] w = cols[j].clone();
      double before = norm(w);
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < j; i++) {
          double d = dot(qc[i], w);
          r[i][j] += d;
          axpy(-d, qc[i], w);
        }
      }
      double nw = norm(w);
      if (nw <= 1e-12 * Math.max(before, Double.MIN_NORMAL)) {
        qc[j] = new double[w.length]; // dependent (or zero) column
      } else {
        r[j][j] = nw;
        for (int k = 0; k < w.length; k++) {
          w[k] /= nw;
        }
        qc[j] = w;
      }
    }
    for (int j = 0; j < n; j++) {
      for (int k = 0; k < qc[j].length; k++) {
        q[k][j] = qc[j][k];
      }
    }
    return r;
  }

  /**
   * One-sided Jacobi SVD of a square matrix m = U·diag(σ)·Vᵀ (unsorted); u and v receive the
   * vectors as columns.
   */
  private static double[] jacobi(double[][] m, double[][] u, double[][] v) {
    int n = m.length;
    double[][] w = new double[n][n]; // w[j] = column j of m·V
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        w[j][i] = m[i][j];
      }
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      boolean rotated = false;
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          double alpha = dot(w[p], w[p]);
          double beta = dot(w[q], w[q]);
          double gamma = dot(w[p], w[q]);
          if (Math.abs(gamma) <= JACOBI_EPS * Math.sqrt(alpha * beta) || gamma == 0) {
            continue;
          }
          rotated = true;
          double zeta = (beta - alpha) / (2 * gamma);
          double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          if (zeta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(1 + t * t);
          double s = c * t;
          rotate(w[p], w[q], c, s);
          rotateRows(v, p, q, c, s);
        }
      }
      if (!rotated) {
        break;
      }
    }
    double[] sigma = new double[n];
    for (int j = 0; j < n; j++) {
      sigma[j] = norm(w[j]);
      for (int i = 0; i < n; i++) {
        u[i][j] = sigma[j] > 0 ? w[j][i] / sigma[j] : 0;
      }
    }
    return sigma;
  }

  private static void rotate(double[] x, double[] y, double c, double s) {
    for (int i = 0; i < x.length; i++) {
      double xi = x[i];
      double yi = y[i];
      x[i] = c * xi - s * yi;
      y[i] = s * xi + c * yi;
    }
  }

  /** The same rotation on columns p and q of v (stored row-major). */
  private static void rotateRows(double[][] v, int p, int q, double c, double s) {
    for (double[] row : v) {
      double vp = row[p];
      double vq = row[q];
      row[p] = c * vp - s * vq;
      row[q] = s * vp + c * vq;
    }
  }

  /** out[:, k] = left · small[:, col]. */
  private static void multiplyColumn(
      double[][] left, double[][] small, int col, double[][] out, int k) {
    for (int i = 0; i < left.length; i++) {
      double acc = 0;
      for (int j = 0; j < small.length; j++) {
        acc += left[i][j] * small[j][col];
      }
      out[i][k] = acc;
    }
  }

  private static double dot(double[] x, double[] y) {
    double acc = 0;
    for (int i = 0; i < x.length; i++) {
      acc += x[i] * y[i];
    }
    return acc;
  }

  private static double norm(double[] x) {
    return Math.sqrt(dot(x, x));
  }

  private static void axpy(double k, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) {
      y[i] += k * x[i];
    }
  }
}
