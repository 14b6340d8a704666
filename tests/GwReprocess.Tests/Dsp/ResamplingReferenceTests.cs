using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Resampling reproduces <c>scipy.signal.resample_poly</c> and <c>decimate(ftype='fir')</c> outputs stored in the reference files.</summary>
public class ResamplingReferenceTests
{
    public static TheoryData<string, string, int, int> Cases => new()
    {
        { "dsp-16384.h5", "resample_poly_1_4", 1, 4 },
        { "dsp-16384.h5", "resample_poly_1_2", 1, 2 },
        { "dsp-4096.h5", "resample_poly_1_2", 1, 2 },
        { "dsp-4096.h5", "resample_poly_2_1", 2, 1 },
    };

    private static ReferenceFile File(string name) => name == "dsp-16384.h5" ? ReferenceFile.Dsp16384 : ReferenceFile.Dsp4096;

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResamplePolyMatchesScipy(string file, string dataset, int up, int down)
    {
        var reference = File(file);
        Assert.Contains($"resample_poly(input, up={up}, down={down})", reference.Operation(dataset));
        var expected = reference.Read(dataset);
        var actual = PolyphaseResampler.Resample(reference.Input, up, down);
        Assert.Equal(expected.Length, actual.Length);
        double err = ReferenceFile.MaxAbsDiff(actual, expected);
        Assert.True(err <= 1e-9 * ReferenceFile.MaxAbs(reference.Input), $"{file}/{dataset}: max|err| {err:E3}");
    }

    [Fact]
    public void FirDecimateMatchesScipy()
    {
        var reference = ReferenceFile.Dsp16384;
        Assert.Equal("scipy.signal.decimate(input, 4, ftype='fir', zero_phase=True)", reference.Operation("decimate_fir_4"));
        var expected = reference.Read("decimate_fir_4");
        var actual = PolyphaseResampler.Decimate(reference.Input, 4);
        Assert.Equal(expected.Length, actual.Length);
        double err = ReferenceFile.MaxAbsDiff(actual, expected);
        Assert.True(err <= 1e-9 * ReferenceFile.MaxAbs(reference.Input), $"decimate_fir_4: max|err| {err:E3}");
    }

    /// <summary>
    /// The 3000 Hz tone left after 16384→4096, isolated by linearity: resample(input) − resample(input − fitted tone) = resample(tone).
    /// SciPy's default Kaiser(5.0) 81-tap filter attenuates 3000 Hz by 68.2 dB, so that is what a SciPy-equal resampler must give;
    /// a steeper window (Kaiser 8) takes it below −80 dB.
    /// </summary>
    [Theory]
    [InlineData(5.0, -70.0, -66.0)]
    [InlineData(8.0, -200.0, -80.0)]
    public void ToneAt3000HzIsRemovedGoingTo4096(double kaiserBeta, double minDb, double maxDb)
    {
        var input = ReferenceFile.Dsp16384.Input;
        var (c, s) = FitTone(input, 16384, 3000);
        var tone = new double[input.Length];
        var withoutTone = new double[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            double phase = 2 * Math.PI * 3000 * i / 16384.0;
            tone[i] = c * Math.Cos(phase) + s * Math.Sin(phase);
            withoutTone[i] = input[i] - tone[i];
        }
        double tonePower = (c * c + s * s) / 2;
        Assert.True(tonePower > 1e-3, $"reference tone power {tonePower}");

        var filter = ResamplingFilter.Create(1, 4, FirWindow.Kaiser(kaiserBeta));
        var full = PolyphaseResampler.Resample(input, filter);
        var clean = PolyphaseResampler.Resample(withoutTone, filter);
        // Away from the edges (1 s each side), where zero padding does not cut the tone.
        double residual = 0;
        int from = 4096, to = full.Length - 4096;
        for (int i = from; i < to; i++) residual += (full[i] - clean[i]) * (full[i] - clean[i]);
        residual /= to - from;
        double db = 10 * Math.Log10(residual / tonePower);
        Assert.InRange(db, minDb, maxDb);
    }

    /// <summary>Least-squares cosine and sine amplitudes of a tone over whole periods.</summary>
    private static (double Cos, double Sin) FitTone(double[] x, double rate, double frequency)
    {
        double c = 0, s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double phase = 2 * Math.PI * frequency * i / rate;
            c += x[i] * Math.Cos(phase);
            s += x[i] * Math.Sin(phase);
        }
        return (2 * c / x.Length, 2 * s / x.Length);
    }
}
