using System.Globalization;
using System.Text;
using GwReprocess.Dsp;
using GwReprocess.Time;

namespace GwReprocess.Simulation;

/// <summary>One detector's view of an injection: its coalescence time (geocentre + light-travel delay), amplitude factor, phase and optimal SNR.</summary>
public sealed record DetectorInjection(string Ifo, GpsTime Time, double AmplitudeFactor, double Phase, double Snr);

/// <summary>A binary-black-hole injection: geocentric coalescence time, source-frame masses (M☉), distance, and per-detector parameters.</summary>
public sealed record BbhInjection(GpsTime GeocentTime, double Mass1, double Mass2, double DistanceMpc, IReadOnlyList<DetectorInjection> Detectors)
{
    public double ChirpMass => TaylorF2.ChirpMass(Mass1, Mass2);

    /// <summary>Root-sum-square of the detectors' optimal SNRs.</summary>
    public double NetworkSnr
    {
        get
        {
            double s = 0;
            foreach (var d in Detectors) s += d.Snr * d.Snr;
            return Math.Sqrt(s);
        }
    }

    /// <summary>The entry for <paramref name="ifo"/>.</summary>
    public DetectorInjection For(string ifo) =>
        Detectors.FirstOrDefault(d => d.Ifo == ifo) ?? throw new ArgumentException($"injection at {GeocentTime} has no {ifo} entry");
}

/// <summary>Distribution of injected sources.</summary>
public sealed record InjectionSettings
{
    /// <summary>Mean injections per second of GPS time (Poisson).</summary>
    public double Rate { get; init; } = 0.01;

    public double MinMass { get; init; } = 10;

    public double MaxMass { get; init; } = 80;

    /// <summary>Distances are uniform in [<see cref="MinDistanceMpc"/>, <see cref="MaxDistanceMpc"/>].</summary>
    public double MinDistanceMpc { get; init; } = 500;

    public double MaxDistanceMpc { get; init; } = 3000;

    /// <summary>Amplitude factors (antenna pattern × inclination stand-in) are uniform in [min, 1] per detector, independent of sky position.</summary>
    public double MinAmplitudeFactor { get; init; } = 0.2;

    /// <summary>Each detector's delay from geocentre is uniform in ±this (s), so any pair differs by at most twice it (10 ms).</summary>
    public double MaxDelay { get; init; } = 0.005;

    /// <summary>Waveforms start at this frequency (Hz).</summary>
    public double LowFrequency { get; init; } = 20;

    /// <summary>The waveform family injected and whose optimal SNRs the schedule lists.</summary>
    public WaveformFamily Waveform { get; init; } = WaveformFamily.TaylorF2ZeroPn;
}

/// <summary>The injection schedule: a Poisson process keyed by 1024-s tiles of GPS time, so any span's injections are found without drawing the earlier ones.</summary>
public sealed class InjectionSchedule
{
    /// <summary>Tile length (s) of the keyed schedule.</summary>
    public const long TileSeconds = 1024;

    /// <summary>Longest time a waveform extends before its coalescence (s): the buffer bound in <see cref="InjectionWaveform"/>.</summary>
    public const double MaxLead = 64;

    private readonly StreamKey _key;
    private readonly Dictionary<long, List<BbhInjection>> _tiles = [];

    public InjectionSchedule(StreamKey root, IReadOnlyList<string> ifos, InjectionSettings settings)
    {
        _key = root.Derive("injections");
        Ifos = ifos;
        Settings = settings;
    }

    public IReadOnlyList<string> Ifos { get; }

    public InjectionSettings Settings { get; }

    /// <summary>Injections whose geocentric coalescence time lies in <paramref name="span"/>, in time order.</summary>
    public IReadOnlyList<BbhInjection> Within(Segment span)
    {
        var result = new List<BbhInjection>();
        if (Settings.Rate <= 0) return result;
        long first = FloorDiv(span.Start.Seconds, TileSeconds), last = FloorDiv(span.End.Seconds, TileSeconds);
        for (long tile = first; tile <= last; tile++)
            foreach (var inj in Tile(tile))
                if (span.Contains(inj.GeocentTime)) result.Add(inj);
        return result;
    }

    /// <summary>Injections whose waveform can touch <paramref name="span"/> (coalescence up to <see cref="MaxLead"/> s after it, or just before it).</summary>
    public IReadOnlyList<BbhInjection> Touching(Segment span) =>
        Within(new Segment(span.Start - GpsDuration.FromSeconds(4), span.End + GpsDuration.FromSeconds((long)MaxLead)));

    private List<BbhInjection> Tile(long tile)
    {
        // Frames ask for the same tiles repeatedly; the SNR integrals make a tile worth keeping.
        lock (_tiles)
        {
            if (_tiles.TryGetValue(tile, out var cached)) return cached;
            if (_tiles.Count > 64) _tiles.Clear();
            var drawn = DrawTile(tile);
            _tiles[tile] = drawn;
            return drawn;
        }
    }

    private List<BbhInjection> DrawTile(long tile)
    {
        var tileKey = _key.Derive(tile);
        var g = tileKey.CreateGenerator();
        int count = g.NextPoisson(Settings.Rate * TileSeconds);
        var list = new List<BbhInjection>(count);
        for (int i = 0; i < count; i++)
        {
            // Each injection draws from its own key, so adding detectors or changing one setting leaves the others' draws alone.
            var key = tileKey.Derive("injection").Derive(i);
            var s = key.CreateGenerator();
            long offsetNs = (long)(s.NextDouble() * TileSeconds * 1_000_000_000L);
            var geocent = GpsTime.FromNanoseconds(tile * TileSeconds * 1_000_000_000L + offsetNs);
            double a = s.Uniform(Settings.MinMass, Settings.MaxMass), b = s.Uniform(Settings.MinMass, Settings.MaxMass);
            double m1 = Math.Max(a, b), m2 = Math.Min(a, b);
            double distance = s.Uniform(Settings.MinDistanceMpc, Settings.MaxDistanceMpc);
            var snrOf = Waveforms.OptimalSnr(Settings.Waveform, m1, m2, distance, Settings.LowFrequency, DesignCurve.Psd);
            var detectors = new DetectorInjection[Ifos.Count];
            for (int d = 0; d < Ifos.Count; d++)
            {
                var q = key.Derive(Ifos[d]).CreateGenerator();
                double delay = q.Uniform(-Settings.MaxDelay, Settings.MaxDelay);
                double factor = q.Uniform(Settings.MinAmplitudeFactor, 1);
                double phase = q.Uniform(0, 2 * Math.PI);
                detectors[d] = new DetectorInjection(Ifos[d], geocent + GpsDuration.FromNanoseconds((long)Math.Round(delay * 1e9)), factor, phase, snrOf(factor));
            }
            list.Add(new BbhInjection(geocent, m1, m2, distance, detectors));
        }
        list.Sort((x, y) => x.GeocentTime.CompareTo(y.GeocentTime));
        return list;
    }

    private static long FloorDiv(long a, long b) => a / b - (a % b < 0 ? 1 : 0);
}

/// <summary>An injection's time-domain strain in one detector: samples at a rate starting at an absolute sample index (counted from GPS 0).</summary>
public sealed class InjectionWaveform
{
    private InjectionWaveform(long firstSample, double[] samples)
    {
        FirstSample = firstSample;
        Samples = samples;
    }

    /// <summary>Absolute index of <see cref="Samples"/>[0].</summary>
    public long FirstSample { get; }

    public double[] Samples { get; }

    /// <summary>One past the absolute index of the last sample.</summary>
    public long EndSample => FirstSample + Samples.Length;

    /// <summary>The 0PN (<see cref="WaveformFamily.TaylorF2ZeroPn"/>) waveform: see the overload with a family.</summary>
    public static InjectionWaveform Create(BbhInjection injection, DetectorInjection detector, int sampleRate, double lowHz) =>
        Create(injection, detector, sampleRate, lowHz, WaveformFamily.TaylorF2ZeroPn);

    /// <summary>
    /// Synthesises <paramref name="detector"/>'s strain: h̃(f) of <paramref name="family"/> on the grid of a power-of-two
    /// buffer (≥ 8 s, chirp duration + 6 s), inverse FFT; coalescence (0PN) or the amplitude peak (PhenomB) falls at the
    /// detector's time, 3 s before the buffer ends.
    /// </summary>
    public static InjectionWaveform Create(BbhInjection injection, DetectorInjection detector, int sampleRate, double lowHz, WaveformFamily family)
    {
        double lead = Waveforms.Lead(family, injection.Mass1, injection.Mass2, lowHz);
        double seconds = Math.Max(8, Math.Pow(2, Math.Ceiling(Math.Log2(lead + 6))));
        seconds = Math.Min(seconds, InjectionSchedule.MaxLead);
        int n = (int)(seconds * sampleRate);
        // Absolute position of the coalescence in samples, split into integer and fraction without losing precision at GPS 1e9.
        var t = detector.Time;
        long whole = t.Seconds * sampleRate + (long)t.Nanoseconds * sampleRate / 1_000_000_000L;
        double frac = ((long)t.Nanoseconds * sampleRate % 1_000_000_000L) / 1e9;
        long first = whole - (long)((seconds - 3) * sampleRate);
        double tc = (whole - first + frac) / sampleRate;
        var buffer = new double[n + 2];
        double df = (double)sampleRate / n;
        if (family == WaveformFamily.PhenomB)
            PhenomBSynthesis.Fill(buffer, n, sampleRate, tc, new PhenomB(injection.Mass1, injection.Mass2), injection.DistanceMpc, detector.AmplitudeFactor, detector.Phase, lowHz);
        else
        {
            for (int k = 1; k <= n / 2; k++)
            {
                var h = TaylorF2.Strain(k * df, injection.Mass1, injection.Mass2, injection.DistanceMpc, detector.AmplitudeFactor, tc, detector.Phase, lowHz);
                buffer[2 * k] = h.Real * sampleRate;
                buffer[2 * k + 1] = h.Imaginary * sampleRate;
            }
        }
        buffer[n + 1] = 0;
        RealFft.For(n).Inverse(buffer);
        Array.Resize(ref buffer, n);
        return new InjectionWaveform(first, buffer);
    }

    /// <summary>Adds the overlap with samples [firstSample, firstSample + destination.Length) to <paramref name="destination"/>.</summary>
    public void AddTo(long firstSample, Span<double> destination)
    {
        long start = Math.Max(firstSample, FirstSample), end = Math.Min(firstSample + destination.Length, EndSample);
        if (end <= start) return;
        var src = Samples.AsSpan((int)(start - FirstSample), (int)(end - start));
        var dst = destination.Slice((int)(start - firstSample), (int)(end - start));
        System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
    }
}

/// <summary>The injection table written beside the frames (CSV, one row per injection, per-detector columns in the simulation's detector order).</summary>
public static class InjectionTable
{
    /// <summary>File name of the table in the output directory.</summary>
    public const string FileName = "injections.csv";

    /// <summary>Header and rows: geocent_time, mass1, mass2, chirp_mass, distance_mpc, then per detector IFO_time, IFO_amplitude, IFO_phase, IFO_snr, then network_snr.</summary>
    public static string Format(IReadOnlyList<string> ifos, IEnumerable<BbhInjection> injections)
    {
        var sb = new StringBuilder("geocent_time,mass1,mass2,chirp_mass,distance_mpc");
        foreach (var ifo in ifos) sb.Append($",{ifo}_time,{ifo}_amplitude,{ifo}_phase,{ifo}_snr");
        sb.Append(",network_snr\n");
        foreach (var inj in injections)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{inj.GeocentTime},{inj.Mass1:R},{inj.Mass2:R},{inj.ChirpMass:R},{inj.DistanceMpc:R}");
            foreach (var ifo in ifos)
            {
                var d = inj.For(ifo);
                sb.Append(CultureInfo.InvariantCulture, $",{d.Time},{d.AmplitudeFactor:R},{d.Phase:R},{d.Snr:R}");
            }
            sb.Append(CultureInfo.InvariantCulture, $",{inj.NetworkSnr:R}\n");
        }
        return sb.ToString();
    }

    /// <summary>Reads a table written by <see cref="Format"/>.</summary>
    public static IReadOnlyList<BbhInjection> Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses a table; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<BbhInjection> Parse(string text, string source)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0) throw new BadInputException($"{source}: empty injection table");
        var header = lines[0].Split(',');
        string[] fixedColumns = ["geocent_time", "mass1", "mass2", "chirp_mass", "distance_mpc"];
        if (header.Length < 6 || !header.Take(5).SequenceEqual(fixedColumns) || header[^1] != "network_snr" || (header.Length - 6) % 4 != 0)
            throw new BadInputException($"{source}: not an injection table (header '{lines[0]}')");
        var ifos = new List<string>();
        for (int c = 5; c < header.Length - 1; c += 4) ifos.Add(header[c][..header[c].IndexOf('_')]);
        var result = new List<BbhInjection>();
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            if (f.Length != header.Length) throw new BadInputException($"{source}:{i + 1}: {f.Length} fields, expected {header.Length}");
            double D(int k) => double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new BadInputException($"{source}:{i + 1}: column {header[k]} '{f[k]}' is not a number");
            GpsTime T(int k) => GpsTime.TryParse(f[k], out var t) ? t : throw new BadInputException($"{source}:{i + 1}: column {header[k]} '{f[k]}' is not a GPS time");
            var detectors = new DetectorInjection[ifos.Count];
            for (int d = 0; d < ifos.Count; d++)
            {
                int c = 5 + 4 * d;
                detectors[d] = new DetectorInjection(ifos[d], T(c), D(c + 1), D(c + 2), D(c + 3));
            }
            result.Add(new BbhInjection(T(0), D(1), D(2), D(4), detectors));
        }
        return result;
    }
}
