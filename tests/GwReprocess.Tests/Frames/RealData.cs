using System.Globalization;
using System.Text.Json;

namespace GwReprocess.Tests.Frames;

/// <summary>The real LIGO/Virgo files copied into tests/data/real, and their reference values.</summary>
internal static class RealData
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "data", "real");

    public static string PathOf(string relative) => Path.Combine(Folder, relative);

    private static readonly Lazy<JsonDocument> Document = new(() => JsonDocument.Parse(File.ReadAllText(PathOf("reference_values.json"))));

    public static JsonElement Reference => Document.Value.RootElement;

    public static JsonElement Of(string relative) => Reference.GetProperty(relative);

    public static readonly string[] GwfFiles =
    [
        "gwpy/HLV-HW100916-968654552-1.gwf",
        "gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf",
        "framel/test.gwf",
        "lalsuite/F-TEST-600000000-60.gwf",
        "lalsuite/H-CAL_FAC_V03-729273600-5094000.gwf",
        "lalsuite/H-CAL_FAC-600000000-6000.gwf",
    ];

    /// <summary>A JSON number, or the strings "nan", "inf", "-inf" the reference uses for non-finite values.</summary>
    public static double Number(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, var s => double.Parse(s!, CultureInfo.InvariantCulture) }
        : e.GetDouble();

    /// <summary>numpy's pairwise summation (the algorithm behind <c>np.mean</c> / <c>np.std</c> on float64), so statistics compare exactly.</summary>
    public static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double res = 0.0;
            for (int i = 0; i < n; i++) res += a[i];
            return res;
        }
        if (n <= 128)
        {
            Span<double> r = stackalloc double[8];
            for (int j = 0; j < 8; j++) r[j] = a[j];
            int i;
            for (i = 8; i < n - (n % 8); i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[i + j];
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return PairwiseSum(a[..n2]) + PairwiseSum(a[n2..]);
    }

    /// <summary>numpy's float64 sum: pairwise within blocks of its 8192-element buffer, the blocks added in order.</summary>
    public static double NumpySum(ReadOnlySpan<double> a)
    {
        double acc = 0;
        for (int i = 0; i < a.Length; i += 8192) acc += PairwiseSum(a.Slice(i, Math.Min(8192, a.Length - i)));
        return acc;
    }

    public static double Mean(ReadOnlySpan<double> a) => NumpySum(a) / a.Length;

    /// <summary>Population standard deviation as numpy computes it.</summary>
    public static double Std(ReadOnlySpan<double> a)
    {
        double mean = Mean(a);
        var sq = new double[a.Length];
        for (int i = 0; i < a.Length; i++) { double d = a[i] - mean; sq[i] = d * d; }
        return Math.Sqrt(NumpySum(sq) / a.Length);
    }
}
