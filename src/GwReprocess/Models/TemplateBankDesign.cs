using System.Globalization;
using System.Numerics;
using GwReprocess.Dsp;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Models;

/// <summary>What the template bank covers and how its templates are cut.</summary>
public sealed record TemplateBankSettings
{
    /// <summary>Component masses (M☉) the bank covers: the injection population's range (<see cref="InjectionSettings"/>).</summary>
    public double MinMass { get; init; } = 10;

    public double MaxMass { get; init; } = 80;

    /// <summary>Spacing (M☉) of the (m₁, m₂) grid of candidate waveforms the bank must cover.</summary>
    public double GridStep { get; init; } = 2.5;

    /// <summary>Waveforms start at this frequency (Hz), as the injections do.</summary>
    public double LowFrequency { get; init; } = 20;

    /// <summary>Every candidate on the grid matches some template at least this well (maximised over time and phase, after whitening and cutting).</summary>
    public double MinimalMatch { get; init; } = 0.95;

    /// <summary>Sample rate of the detector's input (the processing rate, Hz).</summary>
    public int SampleRate { get; init; } = 4096;

    /// <summary>Decimation factor M of the network (1, 2, 4, …): templates live at SampleRate / M.</summary>
    public int Decimation { get; init; } = 4;

    /// <summary>Template length T in samples at the decimated rate.</summary>
    public int Length { get; init; } = 512;

    /// <summary>Samples (decimated rate) kept after the coalescence: the whitening filter spreads the end of the chirp over its half-length.</summary>
    public int Tail { get; init; } = 32;

    /// <summary>Fraction of the template tapered (half-Hann) at its start, where the chirp is cut.</summary>
    public double StartTaper { get; init; } = 0.25;

    /// <summary>Taps of the decimation low-pass (odd).</summary>
    public int DecimationTaps { get; init; } = 63;

    /// <summary>The settings that cover <paramref name="injections"/> (its mass range and low frequency).</summary>
    public static TemplateBankSettings Covering(InjectionSettings injections) =>
        new() { MinMass = injections.MinMass, MaxMass = injections.MaxMass, LowFrequency = injections.LowFrequency };
}

/// <summary>One template of a designed bank: its masses, and the share of the full waveform's whitened SNR the cut template keeps.</summary>
public sealed record TemplateInfo(double Mass1, double Mass2, double ChirpMass, double SnrFraction);

/// <summary>A designed bank: the templates per detector, what they are, and how well the candidate grid is covered.</summary>
public sealed record TemplateBankDesignResult(TemplateBank Bank, IReadOnlyList<TemplateInfo> Templates, int Candidates, double WorstMatch, double MinSnrFraction);

/// <summary>
/// Generates the template bank of the <c>bbh-templates</c> detector: TaylorF2 chirps (the injector's own waveform code) whitened with
/// each detector's whitening FIR exactly as postproc applies it, low-passed and decimated as the network does, cut to end just after
/// coalescence, tapered at the start, unit-norm quadrature pairs; templates placed greedily in chirp mass over an (m₁, m₂) grid
/// until every grid point matches a template to <see cref="TemplateBankSettings.MinimalMatch"/>.
/// </summary>
/// <remarks>
/// 0PN phasing depends on the chirp mass only, and the total mass sets where the waveform ends (ISCO taper), so a grid over
/// both masses is covered by few templates. Placement uses the first detector's whitening; each detector's templates are then
/// whitened with its own filter.
/// </remarks>
public static class TemplateBankDesign
{
    /// <summary>GPS second the waveforms are synthesised at (any whole second: only the shape matters).</summary>
    private static readonly GpsTime Epoch = GpsTime.FromSeconds(1_000_000_000);

    /// <summary>Designs the bank; <paramref name="whiteningFirs"/> are postproc's taps per detector (in the network's detector order).</summary>
    public static TemplateBankDesignResult Design(TemplateBankSettings s, IReadOnlyList<string> ifos, IReadOnlyList<float[]> whiteningFirs)
    {
        if (ifos.Count == 0 || ifos.Count != whiteningFirs.Count) throw new BadInputException($"template bank: {whiteningFirs.Count} whitening filters for {ifos.Count} detectors");
        if (s.Decimation < 1 || s.SampleRate % s.Decimation != 0) throw new BadInputException($"template bank: decimation {s.Decimation} does not divide {s.SampleRate} Hz");
        if (s.Length < 16 || s.Tail < 0 || s.Tail >= s.Length / 2) throw new BadInputException($"template bank: length {s.Length} and tail {s.Tail} samples do not make a template");
        if (!(s.MinMass > 0) || s.MaxMass < s.MinMass || !(s.GridStep > 0)) throw new BadInputException($"template bank: masses [{s.MinMass}, {s.MaxMass}] M☉ step {s.GridStep} are not a grid");
        if (!(s.MinimalMatch > 0 && s.MinimalMatch < 1)) throw new BadInputException($"template bank: minimal match {s.MinimalMatch} must lie in (0, 1)");
        var decimation = s.Decimation == 1 ? [1.0] : Array.ConvertAll(FirDesign.Lowpass(s.DecimationTaps, 0.8 / s.Decimation, FirWindow.Kaiser(8)), v => v * Math.Sqrt(s.Decimation));
        var decimationTaps = Array.ConvertAll(decimation, v => (float)v);
        decimation = Array.ConvertAll(decimationTaps, v => (double)v);

        var masses = new List<(double M1, double M2)>();
        for (double m1 = s.MinMass; m1 <= s.MaxMass + 1e-9; m1 += s.GridStep)
            for (double m2 = s.MinMass; m2 <= m1 + 1e-9; m2 += s.GridStep)
                masses.Add((m1, m2));
        masses.Sort((a, b) => TaylorF2.ChirpMass(a.M1, a.M2).CompareTo(TaylorF2.ChirpMass(b.M1, b.M2)));

        var noises = new NoiseModel[ifos.Count];
        var responses = new Complex[ifos.Count][];
        int bins = 8 * s.SampleRate / 2;
        for (int d = 0; d < ifos.Count; d++)
        {
            noises[d] = new NoiseModel(Array.ConvertAll(whiteningFirs[d], v => (double)v), decimation, s.SampleRate);
            var noise = noises[d];
            var r = new Complex[bins + 1];
            // Only the band a template can occupy needs the (slow, direct) response; elsewhere it is never used.
            double top = TaylorF2.IscoFrequency(2 * s.MinMass) * 1.01;
            Parallel.For(0, bins + 1, k => r[k] = k / 8.0 >= s.LowFrequency && k / 8.0 <= top ? noise.Response(k / 8.0) : Complex.Zero);
            responses[d] = r;
        }
        var candidates = new Candidate[masses.Count];
        Parallel.For(0, masses.Count, i => candidates[i] = Candidate.Make(masses[i].M1, masses[i].M2, s, noises[0], responses[0]));

        int fft = (int)BitOperations.RoundUpToPowerOf2((uint)(2 * s.Length));
        var bank = new List<int>();
        var spectra = new List<(double[] Cos, double[] Sin)>();
        var best = new double[candidates.Length];
        for (int i = 0; i < candidates.Length; i++)
        {
            if (best[i] >= s.MinimalMatch) continue;
            bank.Add(i);
            spectra.Add((Spectrum(Unit(candidates[i].Cosine), fft), Spectrum(Unit(candidates[i].Sine), fft)));
            var (tc, ts) = spectra[^1];
            Parallel.For(0, candidates.Length, j => best[j] = Math.Max(best[j], Match(candidates[j].CosineSpectrum(fft), tc, ts, fft)));
        }

        var perDetector = new List<DetectorTemplates>();
        for (int d = 0; d < ifos.Count; d++)
        {
            var made = d == 0 ? bank.Select(i => candidates[i]).ToArray() : new Candidate[bank.Count];
            if (d > 0) Parallel.For(0, bank.Count, k => made[k] = Candidate.Make(candidates[bank[k]].Mass1, candidates[bank[k]].Mass2, s, noises[d], responses[d]));
            perDetector.Add(new DetectorTemplates(ifos[d], made.Select(c => Array.ConvertAll(c.Cosine, v => (float)v)).ToList(), made.Select(c => Array.ConvertAll(c.Sine, v => (float)v)).ToList()));
        }
        var infos = bank.Select(i => new TemplateInfo(candidates[i].Mass1, candidates[i].Mass2, TaylorF2.ChirpMass(candidates[i].Mass1, candidates[i].Mass2), candidates[i].SnrFraction)).ToList();
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{bank.Count} TaylorF2 (0PN) templates from {s.LowFrequency} Hz covering m1, m2 in [{s.MinMass}, {s.MaxMass}] Msun (grid {s.GridStep}, minimal match {s.MinimalMatch}), " +
            $"whitened with postproc's FIR per detector, decimated by {s.Decimation}, {s.Length} samples ending {s.Tail} after coalescence");
        var result = new TemplateBank(perDetector[0].Cosine, perDetector[0].Sine, 0, 1, description)
        {
            PerDetector = perDetector,
            Crop = (whiteningFirs[0].Length - 1) / 2,
            Decimation = s.Decimation,
            DecimationFilter = s.Decimation == 1 ? null : decimationTaps,
        };
        return new TemplateBankDesignResult(result, infos, candidates.Length, best.Min(), candidates.Min(c => c.SnrFraction));
    }

    /// <summary>max over lags of |⟨a, b_cos(lag)⟩ + i⟨a, b_sin(lag)⟩| for unit-norm a (given as its spectrum) and unit-norm b.</summary>
    private static double Match(double[] a, double[] bCos, double[] bSin, int n)
    {
        var c = Correlate(a, bCos, n);
        var q = Correlate(a, bSin, n);
        double best = 0;
        for (int i = 0; i < n; i++) best = Math.Max(best, c[i] * c[i] + q[i] * q[i]);
        return Math.Sqrt(best);
    }

    private static double[] Correlate(double[] a, double[] b, int n)
    {
        var z = new double[n + 2];
        for (int k = 0; k <= n / 2; k++)
        {
            double ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k], bi = -b[2 * k + 1];
            z[2 * k] = ar * br - ai * bi;
            z[2 * k + 1] = ar * bi + ai * br;
        }
        RealFft.For(n).Inverse(z);
        return z;
    }

    private static double[] Unit(double[] x)
    {
        double norm = Math.Sqrt(x.Sum(v => v * v));
        return Array.ConvertAll(x, v => v / norm);
    }

    private static double[] Spectrum(double[] x, int n)
    {
        var buffer = new double[n + 2];
        x.CopyTo(buffer, 0);
        RealFft.For(n).Forward(buffer);
        return buffer;
    }

    /// <summary>What stands between the strain and the correlation in the network: postproc's whitening FIR and the decimation low-pass.</summary>
    private sealed class NoiseModel(double[] whitening, double[] decimation, int sampleRate)
    {
        /// <summary>Response of postproc's FIR times the decimation low-pass at <paramref name="hz"/> (both centred, so real up to rounding).</summary>
        public Complex Response(double hz)
        {
            Complex w = Complex.Zero, g = Complex.Zero;
            int c = (whitening.Length - 1) / 2, p = (decimation.Length - 1) / 2;
            for (int j = 0; j < whitening.Length; j++) w += whitening[j] * Complex.FromPolarCoordinates(1, -2 * Math.PI * hz * (j - c) / sampleRate);
            for (int j = 0; j < decimation.Length; j++) g += decimation[j] * Complex.FromPolarCoordinates(1, 2 * Math.PI * hz * (j - p) / sampleRate);
            return w * g;
        }
    }

    /// <summary>A candidate template: the chirp as the network sees it (whitened, low-passed, decimated), cut and tapered.</summary>
    private sealed class Candidate
    {
        private double[]? _spectrum;

        public double Mass1 { get; private init; }
        public double Mass2 { get; private init; }
        public double[] Cosine { get; private init; } = [];
        public double[] Sine { get; private init; } = [];
        public double SnrFraction { get; private init; }

        /// <summary>Spectrum of the unit-Euclidean-norm cosine template (placement compares template shapes).</summary>
        public double[] CosineSpectrum(int n)
        {
            if (_spectrum is not null) return _spectrum;
            return _spectrum = Spectrum(Unit(Cosine), n);
        }

        public static Candidate Make(double m1, double m2, TemplateBankSettings s, NoiseModel noise, Complex[] response)
        {
            var (cos, fraction) = Shape(m1, m2, 0, s, noise, response);
            var (sin, _) = Shape(m1, m2, Math.PI / 2, s, noise, response);
            return new Candidate { Mass1 = m1, Mass2 = m2, Cosine = cos, Sine = sin, SnrFraction = fraction };
        }

        /// <summary>
        /// The template and the share of the waveform's whitened SNR it keeps: the chirp h̃ times the response of postproc's FIR W
        /// and the decimation low-pass G (what the network's correlation stage sees of the signal), sampled at fs/M on the grid
        /// through the coalescence, cut to end <see cref="TemplateBankSettings.Tail"/> samples after it, tapered at the start.
        /// </summary>
        private static (double[] Template, double Fraction) Shape(double m1, double m2, double phase, TemplateBankSettings s, NoiseModel noise, Complex[] response)
        {
            int fs = s.SampleRate, m = s.Decimation;
            const int seconds = 8, after = 1;
            int n = seconds * fs;
            double df = (double)fs / n, tc = seconds - after;
            double lowHz = Math.Max(s.LowFrequency, LowestFrequency(m1, m2, s, seconds - after - 0.5));
            var signal = new double[n + 2];
            for (int k = 1; k < n / 2; k++)
            {
                var h = TaylorF2.Strain(k * df, m1, m2, 1, 1, tc, phase, lowHz);
                if (h == Complex.Zero) continue;
                var y = h * response[k];
                signal[2 * k] = y.Real;
                signal[2 * k + 1] = y.Imaginary;
            }
            RealFft.For(n).Inverse(signal);
            int merger = (int)Math.Round(tc * fs);
            int end = merger / m + s.Tail, start = end - s.Length + 1;
            var template = new double[s.Length];
            int taper = Math.Max(1, (int)(s.StartTaper * s.Length));
            double total = 0, overlap = 0, norm = 0;
            for (int i = merger % m; i < n; i += m) total += signal[i] * signal[i];
            for (int j = 0; j < s.Length; j++)
            {
                int i = ((start + j) * m % n + n) % n;
                double w = j < taper ? 0.5 - 0.5 * Math.Cos(Math.PI * (j + 0.5) / taper) : 1;
                template[j] = signal[i] * w;
                overlap += template[j] * signal[i];
                norm += template[j] * template[j];
            }
            if (!(norm > 0) || !(total > 0)) throw new BadInputException($"template bank: the ({m1}, {m2}) M☉ waveform vanishes after whitening");
            double scale = 1 / Math.Sqrt(norm);
            for (int j = 0; j < s.Length; j++) template[j] *= scale;
            return (template, overlap * scale / Math.Sqrt(total));
        }

        /// <summary>The frequency the chirp has <paramref name="seconds"/> before coalescence (so the buffer holds it without wrapping).</summary>
        private static double LowestFrequency(double m1, double m2, TemplateBankSettings s, double seconds)
        {
            double mc = TaylorF2.ChirpMass(m1, m2);
            // τ(f) = τ(f_low) (f / f_low)^(−8/3)
            double tau = TaylorF2.TimeToCoalescence(mc, s.LowFrequency);
            return tau <= seconds ? s.LowFrequency : s.LowFrequency * Math.Pow(seconds / tau, -3.0 / 8);
        }
    }
}
