using GwReprocess.Data;

namespace GwReprocess.Frames.Hdf5;

/// <summary>The channel names a GWOSC HDF5 file's series answer to: this reader's own and those its GWF twin carries.</summary>
/// <remarks>
/// GWOSC's GWF files name the strain <c>H1:LOSC-STRAIN</c> (O1 "LOSC" releases such as GW150914's V2) and
/// <c>H1:GWOSC-4KHZ_R1_STRAIN</c> / <c>H1:GWOSC-16KHZ_R1_STRAIN</c> (later releases); the masks follow the same pattern
/// (<c>H1:LOSC-DQMASK</c>, <c>H1:GWOSC-4KHZ_R1_DQMASK</c>). The HDF5 file stores none of these names, so a workflow written
/// against either file answers to all of them and reads the same samples.
/// </remarks>
public static class GwoscChannels
{
    /// <summary>The name this reader gives the series of <c>strain/Strain</c> (or a mask, with <paramref name="what"/> DQMASK, INJMASK).</summary>
    public static string Own(string ifo, string what = "STRAIN") => Prefix(ifo) + "GWOSC-" + what;

    /// <summary>The GWF twins' names for the same series: <c>LOSC-</c> and <c>GWOSC-4KHZ_R1_</c> (or <c>16KHZ</c>, after the strain's rate).</summary>
    /// <param name="ifo">Detector prefix from <c>meta/Detector</c>; empty gives no names (a GWF channel always carries one).</param>
    /// <param name="strainRate">The strain's sample rate, which names the release (4096 Hz or 16384 Hz); another rate gives only the LOSC name.</param>
    /// <param name="what">STRAIN, DQMASK or INJMASK.</param>
    public static IReadOnlyList<string> Twins(string ifo, SampleRate strainRate, string what = "STRAIN")
    {
        if (ifo.Length == 0) return [];
        var names = new List<string> { Prefix(ifo) + "LOSC-" + what };
        string? khz = strainRate.Hertz switch { 4096 => "4KHZ", 16384 => "16KHZ", _ => null };
        if (khz is not null) names.Add($"{Prefix(ifo)}GWOSC-{khz}_R1_{what}");
        return names;
    }

    private static string Prefix(string ifo) => ifo.Length > 0 ? ifo + ":" : "";
}
