using PureHDF;

namespace GwReprocess.Tests.Dsp;

/// <summary>One of the SciPy reference files in tests/data/reference (see its README.md).</summary>
internal sealed class ReferenceFile
{
    private readonly string _path;

    private ReferenceFile(string name)
    {
        _path = Path.Combine(AppContext.BaseDirectory, "data", "reference", name);
        using var file = H5File.OpenRead(_path);
        InputSampleRate = Convert.ToDouble(file.Attribute("input_sample_rate").Read<long>());
        ScipyVersion = file.Attribute("scipy_version").Read<string>();
        Input = file.Dataset("input").Read<double[]>();
    }

    public static ReferenceFile Dsp16384 { get; } = new("dsp-16384.h5");

    public static ReferenceFile Dsp4096 { get; } = new("dsp-4096.h5");

    /// <summary>Extra SciPy outputs for other ratios, windows and filters (see tests/data/reference/PROVENANCE.md).</summary>
    public static ReferenceFile DspExtra { get; } = new("dsp-extra.h5");

    public double InputSampleRate { get; }

    public string ScipyVersion { get; }

    public double[] Input { get; }

    public double[] Read(string dataset)
    {
        using var file = H5File.OpenRead(_path);
        return file.Dataset(dataset).Read<double[]>();
    }

    /// <summary>The <c>operation</c> attribute: the exact SciPy call that produced <paramref name="dataset"/>.</summary>
    public string Operation(string dataset)
    {
        using var file = H5File.OpenRead(_path);
        return file.Dataset(dataset).Attribute("operation").Read<string>();
    }

    public string[] DatasetNames()
    {
        using var file = H5File.OpenRead(_path);
        return file.Children().Select(c => c.Name).Order().ToArray();
    }

    public static double MaxAbs(ReadOnlySpan<double> x)
    {
        double m = 0;
        foreach (var v in x) m = Math.Max(m, Math.Abs(v));
        return m;
    }

    public static double MaxAbsDiff(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
