using System.Collections.Concurrent;
using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Simulation;

/// <summary>Linear coupling: strain += <see cref="Coefficient"/> × the physical signal the witness records (its sensor noise excluded).</summary>
public sealed record LinearCoupling(string Witness, double Coefficient);

/// <summary>Bilinear coupling: strain += <see cref="Coefficient"/> × m(t) × mains₆₀(t), m the modulation the angular witness records and mains₆₀ the 60 Hz component of the mains witness.</summary>
public sealed record BilinearCoupling(string Modulator, string Mains, double ModulationFrequency, double LineFrequency, double Coefficient);

/// <summary>The truth a noise-regression fit should recover for one detector.</summary>
/// <param name="Strain">Strain channel.</param>
/// <param name="Linear">Linear couplings (strain per count).</param>
/// <param name="Bilinear">Bilinear couplings (strain per count²).</param>
/// <param name="Lines">Frequencies (Hz) of the mains harmonics present in strain.</param>
/// <param name="Sidebands">Frequencies (Hz) of the bilinear sidebands in strain (60 ± each modulation).</param>
public sealed record CouplingTruth(string Strain, IReadOnlyList<LinearCoupling> Linear, IReadOnlyList<BilinearCoupling> Bilinear,
    IReadOnlyList<double> Lines, IReadOnlyList<double> Sidebands);

/// <summary>
/// Generates one detector's strain and witnesses for any span on demand: design-curve Gaussian noise, the mains lines
/// coupled linearly, 60 Hz sidebands from bilinear coupling to angular witnesses, and BBH injections.
/// </summary>
/// <remarks>
/// Every random element is keyed by (seed, detector, channel, position on the global GPS grid), so rendering a span
/// gives the same samples whether it is rendered alone or inside a longer run. An instance caches one noise block
/// per channel and is not thread-safe: use one per thread (they share the immutable filters).
/// </remarks>
public sealed class DetectorSimulator
{
    private static readonly ConcurrentDictionary<(string, int, int), NoiseFilter> Filters = new();

    private readonly SimulationOptions _options;
    private readonly ColoredNoise _strainNoise;
    private readonly LineSignal[] _mains;
    private readonly int _mainsWitness = -1;
    private readonly double _mainsCoupling;
    private readonly (int Witness, LineSignal Signal, double Coefficient)[] _modulations;
    private readonly IChannelNoise[] _witnessNoise;
    private readonly InjectionSchedule _injections;
    private readonly Dictionary<GpsTime, InjectionWaveform> _waveforms = [];
    private double[] _scratch = [];

    public DetectorSimulator(SimulationOptions options, string ifo)
    {
        options.Validate();
        _options = options;
        Ifo = ifo;
        var root = StreamKey.FromSeed(options.Seed);
        var key = root.Derive(ifo);
        StrainChannel = $"{ifo}:{options.StrainChannel}";
        Witnesses = options.WitnessChannels(ifo);

        _strainNoise = new ColoredNoise(Filter("design", options.StrainRate, 1 << 17, DesignCurve.Asd), key.Derive(StrainChannel));

        // Mains: harmonic h wanders in phase as h·φ(t) (the grid frequency drifts), each in amplitude on its own.
        var mainsKey = key.Derive("mains");
        var phaseWander = new SlowWander(mainsKey.Derive("phase"), rms: 0.3);
        _mains = new LineSignal[options.MainsHarmonics.Count];
        var pg = mainsKey.Derive("phases").CreateGenerator();
        for (int h = 0; h < _mains.Length; h++)
            _mains[h] = new LineSignal(options.MainsFrequency * (h + 1), options.MainsHarmonics[h], 2 * Math.PI * pg.NextDouble(),
                new SlowWander(mainsKey.Derive("amplitude").Derive(h), rms: 0.05), phaseWander, h + 1);
        var cg = key.Derive("couplings").CreateGenerator();
        _mainsCoupling = options.MainsCoupling * cg.Uniform(0.8, 1.2);

        _witnessNoise = new IChannelNoise[Witnesses.Count];
        var modulations = new List<(int, LineSignal, double)>();
        var linear = new List<LinearCoupling>();
        var bilinear = new List<BilinearCoupling>();
        for (int i = 0; i < Witnesses.Count; i++)
        {
            var w = Witnesses[i];
            var wkey = key.Derive(w.Name);
            if (w.Role == WitnessRole.Mains)
            {
                _witnessNoise[i] = new WhiteNoise(wkey, MainsSensorNoise);
                if (_mainsWitness < 0)
                {
                    _mainsWitness = i;
                    linear.Add(new LinearCoupling(w.Name, _mainsCoupling));
                }
            }
            else
            {
                _witnessNoise[i] = new ColoredNoise(Filter("angular", w.SampleRate, 4096, AngularAsd), wkey);
            }
        }
        foreach (var m in options.Modulations)
        {
            int i = IndexOf($"{ifo}:{m.Witness}");
            if (i < 0 || Witnesses[i].Role != WitnessRole.Angular) continue;
            var mkey = key.Derive("modulation").Derive(m.Witness);
            var signal = new LineSignal(m.Frequency, m.Amplitude, 2 * Math.PI * mkey.CreateGenerator().NextDouble(),
                new SlowWander(mkey.Derive("amplitude"), rms: 0.2), new SlowWander(mkey.Derive("phase"), rms: 0.2));
            double beta = m.Coefficient * cg.Uniform(0.8, 1.2);
            modulations.Add((i, signal, beta));
            if (_mainsWitness >= 0)
                bilinear.Add(new BilinearCoupling(Witnesses[i].Name, Witnesses[_mainsWitness].Name, signal.Frequency, _mains[0].Frequency, beta));
        }
        _modulations = [.. modulations];
        var sidebands = new List<double>();
        foreach (var (_, s, _) in _modulations) { sidebands.Add(_mains[0].Frequency - s.Frequency); sidebands.Add(_mains[0].Frequency + s.Frequency); }
        sidebands.Sort();
        Truth = new CouplingTruth(StrainChannel, linear, bilinear, Array.ConvertAll(_mains, m => m.Frequency), sidebands);
        _injections = new InjectionSchedule(root, options.Ifos, options.Injections);
    }

    /// <summary>Standard deviation of the mains monitor's white sensor noise (counts).</summary>
    public const double MainsSensorNoise = 0.1;

    /// <summary>ASD of the angular witnesses' own motion and sensor noise (counts/√Hz): 3/(1 + (f/0.5 Hz)²) + 0.01.</summary>
    public static double AngularAsd(double hz) => 3 / (1 + hz / 0.5 * (hz / 0.5)) + 0.01;

    public string Ifo { get; }

    public string StrainChannel { get; }

    public IReadOnlyList<WitnessChannel> Witnesses { get; }

    /// <summary>The couplings built into this detector's strain.</summary>
    public CouplingTruth Truth { get; }

    /// <summary>This run's injection schedule (all detectors).</summary>
    public InjectionSchedule Injections => _injections;

    /// <summary>Index of a witness by full name, or −1.</summary>
    public int IndexOf(string channel)
    {
        for (int i = 0; i < Witnesses.Count; i++) if (Witnesses[i].Name == channel) return i;
        return -1;
    }

    /// <summary>Renders strain for <c>[start, start + seconds)</c> (whole GPS seconds) into <paramref name="destination"/> (seconds × strain rate samples).</summary>
    public void RenderStrain(long start, int seconds, Span<double> destination, bool injections = true)
    {
        int fs = _options.StrainRate;
        long n0 = start * fs;
        int n = checked(seconds * fs);
        if (destination.Length != n) throw new ArgumentException($"strain needs {n} samples, got {destination.Length}");
        _strainNoise.Fill(n0, destination);
        foreach (var line in _mains) line.Add(n0, fs, destination, _mainsCoupling);
        if (_modulations.Length > 0)
        {
            if (_scratch.Length < n) _scratch = new double[n];
            var m = _scratch.AsSpan(0, n);
            foreach (var (_, signal, beta) in _modulations)
            {
                m.Clear();
                signal.Add(n0, fs, m);
                _mains[0].AddModulated(n0, fs, m, destination, beta);
            }
        }
        if (injections) AddInjections(start, seconds, destination);
    }

    /// <summary>Renders witness <paramref name="index"/> for <c>[start, start + seconds)</c> at its native rate.</summary>
    public void RenderWitness(int index, long start, int seconds, Span<double> destination)
    {
        var w = Witnesses[index];
        long n0 = start * w.SampleRate;
        int n = checked(seconds * w.SampleRate);
        if (destination.Length != n) throw new ArgumentException($"{w.Name} needs {n} samples, got {destination.Length}");
        _witnessNoise[index].Fill(n0, destination);
        if (index == _mainsWitness)
            foreach (var line in _mains) line.Add(n0, w.SampleRate, destination);
        foreach (var (i, signal, _) in _modulations)
            if (i == index) signal.Add(n0, w.SampleRate, destination);
    }

    /// <summary>Strain then witnesses over <paramref name="span"/> (whole seconds) as time series: convenient for tests and small spans.</summary>
    public IReadOnlyList<TimeSeries> Render(Segment span, bool injections = true)
    {
        long start = span.Start.Seconds;
        int seconds = checked((int)span.Duration.TotalSeconds);
        if (!span.Start.IsWholeSecond || !span.End.IsWholeSecond) throw new ArgumentException($"{span}: spans are whole GPS seconds");
        var result = new List<TimeSeries>(1 + Witnesses.Count);
        var strain = new double[seconds * _options.StrainRate];
        RenderStrain(start, seconds, strain, injections);
        result.Add(new TimeSeries(new ChannelName(StrainChannel), span.Start, new SampleRate(_options.StrainRate), strain, "strain"));
        for (int i = 0; i < Witnesses.Count; i++)
        {
            var samples = new double[seconds * Witnesses[i].SampleRate];
            RenderWitness(i, start, seconds, samples);
            result.Add(new TimeSeries(new ChannelName(Witnesses[i].Name), span.Start, new SampleRate(Witnesses[i].SampleRate), samples, Witnesses[i].Unit));
        }
        return result;
    }

    /// <summary>The injection's strain in this detector as the simulator adds it (absolute sample indices at the strain rate).</summary>
    public InjectionWaveform Waveform(BbhInjection injection) =>
        InjectionWaveform.Create(injection, injection.For(Ifo), _options.StrainRate, _options.Injections.LowFrequency, _options.Injections.Waveform);

    private void AddInjections(long start, int seconds, Span<double> destination)
    {
        if (_options.Injections.Rate <= 0) return;
        int fs = _options.StrainRate;
        long n0 = start * fs;
        var span = new Segment(start, start + seconds);
        var touching = _injections.Touching(span);
        // Forget waveforms that ended before this span; keep the rest for the next frame.
        foreach (var t in _waveforms.Keys.ToList())
            if (_waveforms[t].EndSample <= n0) _waveforms.Remove(t);
        foreach (var inj in touching)
        {
            if (!_waveforms.TryGetValue(inj.GeocentTime, out var wf))
            {
                wf = Waveform(inj);
                _waveforms[inj.GeocentTime] = wf;
            }
            wf.AddTo(n0, destination);
        }
    }

    private static NoiseFilter Filter(string name, int rate, int taps, Func<double, double> asd) =>
        Filters.GetOrAdd((name, rate, taps), _ => new NoiseFilter(asd, rate, taps));
}

/// <summary>A noise source addressable by absolute sample index.</summary>
internal interface IChannelNoise
{
    void Fill(long firstSample, Span<double> destination);
}

/// <summary>White Gaussian noise of a given standard deviation, in keyed chunks of 4096 samples.</summary>
internal sealed class WhiteNoise(StreamKey key, double sigma) : IChannelNoise
{
    private readonly double[] _chunk = new double[ColoredNoise.ChunkLength];

    public void Fill(long firstSample, Span<double> destination)
    {
        const int L = ColoredNoise.ChunkLength;
        long n = firstSample;
        int written = 0;
        while (written < destination.Length)
        {
            long chunk = Math.DivRem(n, L, out long offset);
            if (offset < 0) { chunk--; offset += L; }
            key.Derive(chunk).CreateGenerator().FillNormal(_chunk);
            int count = (int)Math.Min(L - offset, destination.Length - written);
            System.Numerics.Tensors.TensorPrimitives.Multiply(_chunk.AsSpan((int)offset, count), sigma, destination.Slice(written, count));
            written += count;
            n += count;
        }
    }
}
