using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace GwReprocess.Models;

/// <summary>Least-squares fit of a multi-input FIR (Wiener) filter predicting a target channel from witness channels.</summary>
/// <remarks>
/// Minimises Σ_t (y[t] − Σ_c Σ_j h_c[j]·w_c[t − j + a])² over the taps h. The normal equations use the witnesses'
/// auto- and cross-correlations at lags −(T−1)…T−1 (block-Toeplitz, exact up to the T samples at the ends of a span of N ≫ T),
/// so the cost is about C²·T dot products of the span rather than (C·T)², and a small ridge term keeps the solve stable
/// when witnesses are nearly collinear (the mains witnesses of one building are).
/// </remarks>
public static class WienerFit
{
    /// <summary>Fits taps of length <paramref name="taps"/> with look-ahead <paramref name="advance"/>.</summary>
    /// <param name="witnesses">C channels of N samples each (as the model will see them: standardised, at the processing rate).</param>
    /// <param name="target">N samples of what the filter should predict (the strain, or its band-passed noise).</param>
    /// <param name="taps">T, taps per witness.</param>
    /// <param name="advance">a, how many future samples of each witness the filter uses (0 ≤ a &lt; T).</param>
    /// <param name="ridge">Ridge term, relative to the mean witness power.</param>
    /// <param name="description">Carried into the model (what was fitted, on which data).</param>
    public static MultiChannelFir Fit(IReadOnlyList<ReadOnlyMemory<double>> witnesses, ReadOnlyMemory<double> target, int taps, int advance, double ridge = 1e-6, string description = "")
    {
        int c = witnesses.Count, n = target.Length;
        if (c == 0) throw new BadInputException("Wiener fit: no witness channels");
        if (taps <= 0 || advance < 0 || advance >= taps) throw new BadInputException($"Wiener fit: advance {advance} must lie in [0, taps {taps})");
        foreach (var w in witnesses)
            if (w.Length != n) throw new BadInputException($"Wiener fit: every witness must have the target's {n} samples (one has {w.Length})");
        if (n < 10 * taps) throw new BadInputException($"Wiener fit: {n} samples is too short for {taps} taps");

        // r[c1, c2][k + T − 1] = Σ_t w_c1[t] · w_c2[t + k], over the samples where both exist.
        int lags = 2 * taps - 1;
        var r = new double[c, c, lags];
        for (int c1 = 0; c1 < c; c1++)
        {
            var a = witnesses[c1].Span;
            for (int c2 = c1; c2 < c; c2++)
            {
                var b = witnesses[c2].Span;
                for (int k = -(taps - 1); k < taps; k++)
                {
                    int from = Math.Max(0, -k), to = Math.Min(n, n - k);
                    double v = TensorPrimitives.Dot(a[from..to], b[(from + k)..(to + k)]);
                    r[c1, c2, k + taps - 1] = v;
                    r[c2, c1, -k + taps - 1] = v;
                }
            }
        }
        // R[(c1,j1),(c2,j2)] = Σ_t w_c1[t−j1+a] w_c2[t−j2+a] = r[c1,c2](j1 − j2);  p[(c,j)] = Σ_t y[t] w_c[t−j+a].
        int m = c * taps;
        var matrix = Matrix<double>.Build.Dense(m, m);
        for (int c1 = 0; c1 < c; c1++)
            for (int j1 = 0; j1 < taps; j1++)
                for (int c2 = 0; c2 < c; c2++)
                    for (int j2 = 0; j2 < taps; j2++)
                        matrix[c1 * taps + j1, c2 * taps + j2] = r[c1, c2, j1 - j2 + taps - 1];
        var y = target.Span;
        var rhs = Vector<double>.Build.Dense(m);
        for (int ch = 0; ch < c; ch++)
        {
            var w = witnesses[ch].Span;
            for (int j = 0; j < taps; j++)
            {
                // t − j + a = s  ⇒  t = s + j − a; both t and s inside [0, n).
                int shift = j - advance;
                int from = Math.Max(0, -shift), to = Math.Min(n, n - shift);
                rhs[ch * taps + j] = TensorPrimitives.Dot(w[from..to], y[(from + shift)..(to + shift)]);
            }
        }
        double meanPower = 0;
        for (int ch = 0; ch < c; ch++) meanPower += r[ch, ch, taps - 1];
        meanPower /= c;
        double lambda = ridge * Math.Max(meanPower, double.Epsilon);
        for (int i = 0; i < m; i++) matrix[i, i] += lambda;

        Vector<double> h;
        try { h = matrix.Cholesky().Solve(rhs); }
        catch (ArgumentException) { h = matrix.Svd().Solve(rhs); } // not positive definite: a witness is all zeros or duplicated
        var result = new float[c][];
        for (int ch = 0; ch < c; ch++)
        {
            result[ch] = new float[taps];
            for (int j = 0; j < taps; j++) result[ch][j] = (float)h[ch * taps + j];
        }
        return new MultiChannelFir(result, advance, description);
    }

    /// <summary>The filter's prediction over whole series (zeros outside), in double precision: the reference for what the ONNX model computes.</summary>
    public static double[] Predict(MultiChannelFir fir, IReadOnlyList<ReadOnlyMemory<double>> witnesses)
    {
        int n = witnesses[0].Length;
        var output = new double[n];
        for (int ch = 0; ch < fir.Channels; ch++)
        {
            var w = witnesses[ch].Span;
            var h = fir.Taps[ch];
            for (int j = 0; j < h.Length; j++)
            {
                double coefficient = h[j];
                int shift = fir.Advance - j;  // output[t] += h[j] · w[t + shift]
                int from = Math.Max(0, -shift), to = Math.Min(n, n - shift);
                for (int t = from; t < to; t++) output[t] += coefficient * w[t + shift];
            }
        }
        return output;
    }
}
