using GwReprocess.Data;
using GwReprocess.Time;
using PureHDF;

namespace GwReprocess.Frames.Hdf5;

/// <summary>An HDF5 time-series file that cannot be read as expected; names the file and the dataset or attribute.</summary>
public sealed class Hdf5FormatException(string message, Exception? inner = null) : BadInputException(message, inner ?? new InvalidDataException(message));

/// <summary>The HDF5 time-series layouts this reader knows.</summary>
public enum Hdf5Layout
{
    /// <summary>GWOSC strain files: <c>strain/Strain</c> with <c>Xstart</c>/<c>Xspacing</c>, <c>quality/</c> masks, <c>meta/</c>.</summary>
    Gwosc,
    /// <summary>gwpy's <c>TimeSeries.write</c>: root datasets with <c>x0</c>, <c>dx</c>, <c>channel</c>, <c>unit</c>.</summary>
    Gwpy,
    /// <summary>GwReprocess score/time-series files (<see cref="Hdf5TimeSeriesWriter"/>): <c>t0</c>, <c>sample_rate</c>, <c>channel</c>.</summary>
    TimeSeries,
}

/// <summary>A GWOSC data-quality or injection bit mask with its bit names.</summary>
public sealed record GwoscMask(TimeSeries Series, IReadOnlyList<string> BitNames, IReadOnlyList<string> BitDescriptions);

/// <summary>The contents of an HDF5 time-series file: its series by channel (in file order), and for GWOSC files masks and metadata.</summary>
public sealed record Hdf5TimeSeriesFile(string Path, Hdf5Layout Layout, IReadOnlyList<TimeSeries> Series)
{
    /// <summary>GWOSC <c>quality/simple/DQmask</c> and <c>quality/injections/Injmask</c>, by dataset name.</summary>
    public IReadOnlyDictionary<string, GwoscMask> Masks { get; init; } = new Dictionary<string, GwoscMask>();

    /// <summary>GWOSC <c>meta/</c> values as text (Detector, GPSstart, Duration, UTCstart, ...).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; init; } = new Dictionary<string, string>();

    /// <summary>Other names a series answers to (GWOSC files: their GWF twins' names, see <see cref="GwoscChannels"/>), each to the series' own name.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>();

    /// <summary>The own name of the series <paramref name="channel"/> names (itself or an alias), or null when the file has none.</summary>
    public string? Resolve(string channel)
    {
        foreach (var s in Series)
            if (s.Channel.Value == channel) return channel;
        return Aliases.TryGetValue(channel, out var own) ? own : null;
    }

    /// <summary>The series for <paramref name="channel"/> (under that name when it is an alias), or a one-line error listing what the file has.</summary>
    public TimeSeries this[string channel]
    {
        get
        {
            string own = Resolve(channel) ?? throw new Hdf5FormatException($"{Path}: channel {channel}: no such channel (the file has {Listing()})");
            var series = Series.First(s => s.Channel.Value == own);
            return own == channel ? series : series.WithChannel(new ChannelName(channel));
        }
    }

    private string Listing() => string.Join(", ", Series.Select(s =>
    {
        var also = Aliases.Where(a => a.Value == s.Channel.Value).Select(a => a.Key).ToList();
        return also.Count == 0 ? s.Channel.Value : $"{s.Channel.Value} (also {string.Join(", ", also)})";
    }));
}

/// <summary>Reads GWOSC, gwpy and GwReprocess HDF5 time-series files with PureHDF (pure managed HDF5).</summary>
public static class Hdf5TimeSeriesReader
{
    /// <summary>Reads every time series in the file; the layout is recognised from its groups and attributes.</summary>
    public static Task<Hdf5TimeSeriesFile> ReadAsync(string path, CancellationToken cancellationToken = default) =>
        Task.Run(() => Read(path), cancellationToken);

    /// <summary>Synchronous <see cref="ReadAsync"/>.</summary>
    public static Hdf5TimeSeriesFile Read(string path)
    {
        if (!File.Exists(path)) throw new Hdf5FormatException($"{path}: no such file");
        string where = "";
        try
        {
            using var file = H5File.OpenRead(path);
            if (file.LinkExists("strain") && file.Group("strain").LinkExists("Strain"))
                return ReadGwosc(path, file, ref where);
            var series = new List<TimeSeries>();
            Hdf5Layout? layout = null;
            foreach (var child in file.Children())
            {
                if (child is not IH5Dataset ds) continue;
                where = $" dataset {child.Name}";
                if (ds.AttributeExists("sample_rate") && ds.AttributeExists("t0"))
                {
                    layout ??= Hdf5Layout.TimeSeries;
                    var rate = new SampleRate(NumberAttribute(ds, "sample_rate"));
                    var t0 = ds.AttributeExists("t0_ns")
                        ? GpsTime.FromNanoseconds(ds.Attribute("t0_ns").Read<long>())
                        : GpsTime.FromSeconds(NumberAttribute(ds, "t0"));
                    series.Add(new TimeSeries(ChannelOf(ds, "channel", child.Name), t0, rate, Samples(ds), StringAttribute(ds, "unit")));
                }
                else if (ds.AttributeExists("x0") && ds.AttributeExists("dx"))
                {
                    layout ??= Hdf5Layout.Gwpy;
                    var rate = SampleRate.FromSpacing(NumberAttribute(ds, "dx"));
                    var t0 = GpsTime.FromSeconds(NumberAttribute(ds, "x0"));
                    series.Add(new TimeSeries(ChannelOf(ds, "channel", child.Name), t0, rate, Samples(ds), StringAttribute(ds, "unit")));
                }
            }
            if (layout is null) throw new Hdf5FormatException($"{path}: no time series found (expected strain/Strain, or datasets with x0/dx or t0/sample_rate attributes)");
            return new Hdf5TimeSeriesFile(path, layout.Value, series);
        }
        catch (Hdf5FormatException) { throw; }
        catch (BadInputException) { throw; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new Hdf5FormatException($"{path}:{where} cannot be read as HDF5 time series ({e.Message})", e);
        }
    }

    private static Hdf5TimeSeriesFile ReadGwosc(string path, IH5Group file, ref string where)
    {
        var strainGroup = file.Group("strain");
        var strain = strainGroup.Dataset("Strain");
        where = " dataset strain/Strain";
        var t0 = GpsTime.FromSeconds(NumberAttribute(strain, "Xstart"));
        var rate = SampleRate.FromSpacing(NumberAttribute(strain, "Xspacing"));
        var meta = new Dictionary<string, string>();
        if (file.LinkExists("meta"))
        {
            foreach (var child in file.Group("meta").Children())
            {
                if (child is not IH5Dataset ds) continue;
                where = $" dataset meta/{child.Name}";
                meta[child.Name] = ScalarText(ds);
            }
        }
        string detector = meta.GetValueOrDefault("Detector", "");
        var series = new List<TimeSeries>
        {
            new(new ChannelName(GwoscChannels.Own(detector)), t0, rate, Samples(strain), StringAttribute(strain, "Yunits")),
        };
        var aliases = new Dictionary<string, string>();
        foreach (var twin in GwoscChannels.Twins(detector, rate)) aliases[twin] = GwoscChannels.Own(detector);
        var masks = new Dictionary<string, GwoscMask>();
        if (file.LinkExists("quality"))
        {
            var quality = file.Group("quality");
            foreach (var (group, mask, names, descriptions) in new[] { ("simple", "DQmask", "DQShortnames", "DQDescriptions"), ("injections", "Injmask", "InjShortnames", "InjDescriptions") })
            {
                if (!quality.LinkExists(group)) continue;
                var g = quality.Group(group);
                if (!g.LinkExists(mask)) continue;
                where = $" dataset quality/{group}/{mask}";
                var ds = g.Dataset(mask);
                var samples = Samples(ds);
                string what = mask.ToUpperInvariant();
                foreach (var twin in GwoscChannels.Twins(detector, rate, what)) aliases[twin] = GwoscChannels.Own(detector, what);
                var maskSeries = new TimeSeries(new ChannelName(GwoscChannels.Own(detector, what)),
                    GpsTime.FromSeconds(NumberAttribute(ds, "Xstart")), SampleRate.FromSpacing(NumberAttribute(ds, "Xspacing")), samples);
                masks[mask] = new GwoscMask(maskSeries,
                    g.LinkExists(names) ? g.Dataset(names).Read<string[]>() : [],
                    g.LinkExists(descriptions) ? g.Dataset(descriptions).Read<string[]>() : []);
                series.Add(maskSeries);
            }
        }
        return new Hdf5TimeSeriesFile(path, Hdf5Layout.Gwosc, series) { Masks = masks, Meta = meta, Aliases = aliases };
    }

    private static ChannelName ChannelOf(IH5Dataset ds, string attribute, string fallback)
    {
        string name = StringAttribute(ds, attribute);
        return new ChannelName(name.Length > 0 ? name : fallback);
    }

    private static double NumberAttribute(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) throw new Hdf5FormatException($"{o.Name}: attribute {name} is missing");
        var a = o.Attribute(name);
        // PureHDF reinterprets rather than converts, so read each attribute as its stored type.
        return a.Type.Class switch
        {
            H5DataTypeClass.FloatingPoint => a.Type.Size == 4 ? a.Read<float>() : a.Read<double>(),
            H5DataTypeClass.FixedPoint => a.Type.Size switch
            {
                1 => a.Type.FixedPoint.IsSigned ? a.Read<sbyte>() : a.Read<byte>(),
                2 => a.Type.FixedPoint.IsSigned ? a.Read<short>() : a.Read<ushort>(),
                4 => a.Type.FixedPoint.IsSigned ? a.Read<int>() : a.Read<uint>(),
                _ => a.Type.FixedPoint.IsSigned ? a.Read<long>() : a.Read<ulong>(),
            },
            _ => throw new Hdf5FormatException($"{o.Name}: attribute {name} is not a number"),
        };
    }

    /// <summary>A one-dimensional numeric dataset as float64, converting from its stored type.</summary>
    private static double[] Samples(IH5Dataset ds)
    {
        if (ds.Space.Rank != 1) throw new Hdf5FormatException($"dataset {ds.Name} has {ds.Space.Rank} dimensions, not 1");
        var t = ds.Type;
        return t.Class switch
        {
            H5DataTypeClass.FloatingPoint when t.Size == 8 => ds.Read<double[]>(),
            H5DataTypeClass.FloatingPoint when t.Size == 4 => Array.ConvertAll(ds.Read<float[]>(), v => (double)v),
            H5DataTypeClass.FixedPoint => t.Size switch
            {
                1 => t.FixedPoint.IsSigned ? Array.ConvertAll(ds.Read<sbyte[]>(), v => (double)v) : Array.ConvertAll(ds.Read<byte[]>(), v => (double)v),
                2 => t.FixedPoint.IsSigned ? Array.ConvertAll(ds.Read<short[]>(), v => (double)v) : Array.ConvertAll(ds.Read<ushort[]>(), v => (double)v),
                4 => t.FixedPoint.IsSigned ? Array.ConvertAll(ds.Read<int[]>(), v => (double)v) : Array.ConvertAll(ds.Read<uint[]>(), v => (double)v),
                _ => t.FixedPoint.IsSigned ? Array.ConvertAll(ds.Read<long[]>(), v => (double)v) : Array.ConvertAll(ds.Read<ulong[]>(), v => (double)v),
            },
            _ => throw new Hdf5FormatException($"dataset {ds.Name} holds {t.Class} values, not numbers"),
        };
    }

    private static string StringAttribute(IH5Object o, string name) =>
        o.AttributeExists(name) ? o.Attribute(name).Read<string>() ?? "" : "";

    private static string ScalarText(IH5Dataset ds)
    {
        try { return ds.Read<string>() ?? ""; }
        catch (Exception)
        {
            try { return ds.Read<long>().ToString(System.Globalization.CultureInfo.InvariantCulture); }
            catch (Exception) { return ds.Read<double>().ToString("R", System.Globalization.CultureInfo.InvariantCulture); }
        }
    }
}
