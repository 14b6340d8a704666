using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GwReprocess.Dsp;

/// <summary>Causal (<c>scipy.signal.sosfilt</c>) and zero-phase (<c>sosfiltfilt</c>) filtering with second-order sections, direct form II transposed.</summary>
public static class SosFilter
{
    /// <summary><c>sosfilt(sos, x)</c> from zero state.</summary>
    public static double[] Filter(SecondOrderSections sos, ReadOnlySpan<double> x)
    {
        var y = new double[x.Length];
        var state = new double[2 * sos.Count];
        Filter(sos, x, y, state);
        return y;
    }

    /// <summary><c>sosfilt(sos, x, zi=state)</c>: <paramref name="state"/> (Count×2, row-major) is read as the initial conditions and left holding the final ones, so consecutive chunks continue one stream. <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    public static void Filter(SecondOrderSections sos, ReadOnlySpan<double> x, Span<double> y, Span<double> state)
    {
        int n = sos.Count;
        if (state.Length != 2 * n) throw new ArgumentException($"state needs {2 * n} values for {n} sections, got {state.Length}", nameof(state));
        if (y.Length < x.Length) throw new ArgumentException("output shorter than input", nameof(y));
        var c = sos.Coefficients;
        if (!x.Overlaps(y)) x.CopyTo(y);
        else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y)))
            throw new ArgumentException("output may alias the input only exactly", nameof(y));
        var data = y[..x.Length];
        // Sample-major like SciPy: consecutive sections of one sample are independent of the previous sample's
        // later sections, so the CPU overlaps their dependency chains (section-major would serialise them).
        Span<double> coefficients = n <= 64 ? stackalloc double[5 * n] : new double[5 * n];
        for (int s = 0; s < n; s++)
        {
            coefficients[5 * s] = c[6 * s];
            coefficients[5 * s + 1] = c[6 * s + 1];
            coefficients[5 * s + 2] = c[6 * s + 2];
            coefficients[5 * s + 3] = c[6 * s + 4];
            coefficients[5 * s + 4] = c[6 * s + 5];
        }
        Span<double> z = n <= 64 ? stackalloc double[2 * n] : new double[2 * n];
        state.CopyTo(z);
        ref double cf = ref MemoryMarshal.GetReference(coefficients);
        ref double zs = ref MemoryMarshal.GetReference(z);
        ref double d = ref MemoryMarshal.GetReference(data);
        for (int i = 0; i < data.Length; i++)
        {
            double xn = Unsafe.Add(ref d, i);
            ref double c0 = ref cf;
            ref double z0 = ref zs;
            for (int s = 0; s < n; s++)
            {
                double yn = c0 * xn + z0;
                ref double z1 = ref Unsafe.Add(ref z0, 1);
                z0 = Unsafe.Add(ref c0, 1) * xn - Unsafe.Add(ref c0, 3) * yn + z1;
                z1 = Unsafe.Add(ref c0, 2) * xn - Unsafe.Add(ref c0, 4) * yn;
                xn = yn;
                c0 = ref Unsafe.Add(ref c0, 5);
                z0 = ref Unsafe.Add(ref z0, 2);
            }
            Unsafe.Add(ref d, i) = xn;
        }
        z.CopyTo(state);
    }

    /// <summary><c>sosfiltfilt(sos, x)</c>: forward and backward passes over an odd extension of SciPy's default length, with <c>sosfilt_zi</c> initial conditions.</summary>
    public static double[] FilterZeroPhase(SecondOrderSections sos, ReadOnlySpan<double> x) => FilterZeroPhase(sos, x, sos.DefaultPadLength());

    /// <summary><c>sosfiltfilt(sos, x, padtype='odd', padlen=padLength)</c>.</summary>
    public static double[] FilterZeroPhase(SecondOrderSections sos, ReadOnlySpan<double> x, int padLength)
    {
        if (padLength < 0) throw new ArgumentOutOfRangeException(nameof(padLength));
        if (x.Length <= padLength)
            throw new BadInputException($"zero-phase filtering needs more than {padLength} samples (the odd-extension padding), got {x.Length}");
        int n = x.Length, edge = padLength;
        var ext = new double[n + 2 * edge];
        if (n > 0)
        {
            double left = x[0], right = x[n - 1];
            for (int i = 0; i < edge; i++)
            {
                ext[i] = 2 * left - x[edge - i];
                ext[edge + n + i] = 2 * right - x[n - 2 - i];
            }
            x.CopyTo(ext.AsSpan(edge));
        }
        else
        {
            return [];
        }
        var zi = sos.StepInitialState();
        var state = new double[zi.Length];
        for (int i = 0; i < zi.Length; i++) state[i] = zi[i] * ext[0];
        Filter(sos, ext, ext, state);
        ext.AsSpan().Reverse();
        double y0 = ext[0];
        for (int i = 0; i < zi.Length; i++) state[i] = zi[i] * y0;
        Filter(sos, ext, ext, state);
        ext.AsSpan().Reverse();
        return ext[edge..(edge + n)];
    }
}

/// <summary>A causal SOS filter over a stream: chunks filtered one after another give the same samples as one <c>sosfilt</c> call.</summary>
public sealed class StreamingSosFilter(SecondOrderSections sos)
{
    private readonly double[] _state = new double[2 * sos.Count];

    public SecondOrderSections Sections => sos;

    /// <summary>Filters the next chunk; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public void Process(ReadOnlySpan<double> x, Span<double> y) => SosFilter.Filter(sos, x, y, _state);

    /// <summary>Back to zero state.</summary>
    public void Reset() => Array.Clear(_state);
}
