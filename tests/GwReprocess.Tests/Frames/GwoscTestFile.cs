using GwReprocess.Data;
using PureHDF;

namespace GwReprocess.Tests.Frames;

/// <summary>Writes HDF5 files in GWOSC's strain layout (as the real H1 file has it: <c>strain/Strain</c>, <c>quality/simple</c>, <c>quality/injections</c>, <c>meta/</c>).</summary>
internal static class GwoscTestFile
{
    public static readonly string[] DqNames = ["DATA", "CBC_CAT1", "CBC_CAT2", "CBC_CAT3", "BURST_CAT1", "BURST_CAT2", "BURST_CAT3"];

    /// <summary>Writes <paramref name="strain"/> with one DQmask value per second (<paramref name="dq"/>; bit 0 is DATA).</summary>
    public static void Write(string path, string detector, TimeSeries strain, uint[] dq, string[]? dqNames = null)
    {
        long start = (long)strain.T0.TotalSeconds;
        var file = new H5File
        {
            ["strain"] = new H5Group
            {
                ["Strain"] = new H5Dataset(strain.Samples.ToArray())
                {
                    Attributes = new()
                    {
                        ["Xstart"] = start,
                        ["Xspacing"] = strain.SampleRate.Spacing,
                        ["Npoints"] = (long)strain.Length,
                        ["Xunits"] = "second",
                        ["Xlabel"] = "GPS time",
                        ["Ylabel"] = "Strain",
                        ["Yunits"] = "",
                    },
                },
            },
            ["quality"] = new H5Group
            {
                ["simple"] = new H5Group
                {
                    ["DQmask"] = new H5Dataset(dq) { Attributes = new() { ["Xstart"] = start, ["Xspacing"] = 1.0, ["Bits"] = (long)(dqNames ?? DqNames).Length } },
                    ["DQShortnames"] = dqNames ?? DqNames,
                    ["DQDescriptions"] = (dqNames ?? DqNames).Select(n => "passes " + n).ToArray(),
                },
                ["injections"] = new H5Group
                {
                    ["Injmask"] = new H5Dataset(dq.Select(_ => 31u).ToArray()) { Attributes = new() { ["Xstart"] = start, ["Xspacing"] = 1.0, ["Bits"] = 5L } },
                    ["InjShortnames"] = new[] { "NO_CBC_HW_INJ", "NO_BURST_HW_INJ", "NO_DETCHAR_HW_INJ", "NO_CW_HW_INJ", "NO_STOCH_HW_INJ" },
                },
            },
            ["meta"] = new H5Group
            {
                ["Detector"] = detector,
                ["GPSstart"] = start,
                ["Duration"] = (long)strain.Duration.TotalSeconds,
                ["Observatory"] = detector[..1],
                ["Type"] = "StrainTimeSeries",
            },
        };
        file.Write(path);
    }
}
