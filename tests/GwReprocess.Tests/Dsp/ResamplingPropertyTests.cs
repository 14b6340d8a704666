using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Properties of the SciPy-default resampling filter that hold for any ratio and input.</summary>
public class ResamplingPropertyTests
{
    /// <summary>A constant stays that constant wherever the filter sees only input (SciPy's Kaiser(5) branches sum to 1 within 7e-4 for ratios up to 8).</summary>
    [Property(MaxTest = 60)]
    public Property ConstantStaysConstantAwayFromEdges()
    {
        var gen =
            from up in Gen.Choose(1, 8)
            from down in Gen.Choose(1, 8)
            from length in Gen.Choose(200, 800)
            from level in Gen.Choose(-1000, 1000)
            select (up, down, length, level / 7.0);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (up, down, length, level) = t;
            var filter = ResamplingFilter.Create(up, down);
            var x = Enumerable.Repeat(level, length).ToArray();
            var y = PolyphaseResampler.Resample(x, filter);
            long u = filter.Up, d = filter.Down, half = filter.HalfLength;
            for (long k = 0; k < y.Length; k++)
            {
                bool interior = filter.IsIdentity || (k * d >= half && k * d <= (length - 1) * u - half);
                if (interior && Math.Abs(y[k] - level) > 1e-3 * Math.Abs(level) + 1e-12) return false;
            }
            return true;
        });
    }

    /// <summary>Up by u then down by u returns a signal below half its Nyquist frequency within the filters' pass-band ripple.</summary>
    [Property(MaxTest = 40)]
    public Property UpThenDownReturnsInBandInput()
    {
        var gen =
            from factor in Gen.Choose(2, 8)
            from seed in Gen.Choose(0, 1_000_000)
            select (factor, seed);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (factor, seed) = t;
            var rng = new Random(seed);
            var x = new double[600];
            for (int c = 0; c < 3; c++)
            {
                double amp = rng.NextDouble() * 2 - 1, f = rng.NextDouble() * 0.5 * Math.PI, phase = rng.NextDouble() * 6;
                for (int i = 0; i < x.Length; i++) x[i] += amp * Math.Cos(f * i + phase);
            }
            var y = PolyphaseResampler.Resample(PolyphaseResampler.Resample(x, factor, 1), 1, factor);
            if (y.Length != x.Length) return false;
            double peak = x.Max(Math.Abs), err = 0;
            for (int i = 30; i < x.Length - 30; i++) err = Math.Max(err, Math.Abs(y[i] - x[i]));
            return err <= 1e-2 * peak;
        });
    }
}
