using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Models;

/// <summary>Writes a model repository from a <see cref="ModelRepositoryRequest"/>: fits the Wiener cleaners and the template bank when asked, builds, writes and checks.</summary>
public static class ModelRepositoryBuild
{
    /// <summary>Builds the repository into <see cref="ModelRepositoryRequest.Directory"/>; <paramref name="log"/> hears what is fitted and designed.</summary>
    public static async Task<ModelRepositoryBuildResult> BuildAsync(ModelRepositoryRequest request, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var asked = request.Models;
        if (asked.Whitening == WhiteningMode.Stream)
        {
            if (request.Fit is not null) throw new BadInputException("--whitening stream builds a strain-only repository: nothing is fitted (drop --cleaner wiener, --fit, --workflow)");
            return await WriteAsync(request.Directory, ModelRepositoryBuilder.Build(asked), asked, cancellationToken).ConfigureAwait(false);
        }
        if (asked.Cleaner == CleanerKind.Wiener && request.Fit is null)
            throw new BadInputException("a Wiener cleaner needs frames to fit on");
        if (asked.Detector == DetectorKind.Templates && (asked.Cleaner != CleanerKind.Wiener || request.Fit!.WhitenTaps == 0))
            throw new BadInputException("the template detector needs fitted Wiener cleaners and postproc's whitening");
        var fitted = asked.Cleaner == CleanerKind.Wiener ? await FitWienerAsync(request.Fit!, asked.SampleRate, log, cancellationToken).ConfigureAwait(false) : default;
        var cleaners = fitted.Cleaners;
        int whitenTaps = request.Fit?.WhitenTaps ?? 0;
        var whitening = cleaners is null || whitenTaps == 0 ? null
            : cleaners.Select(c => Array.ConvertAll(Dsp.Whitening.FirFromAsd(c.StrainAsd, asked.SampleRate, whitenTaps, lowCornerHz: 10), v => (float)v)).ToList();
        TemplateBank? bank = null;
        if (asked.Detector == DetectorKind.Templates)
            bank = await TemplatesAsync(request.Fit!, fitted, asked, whitening!, (int)Math.Round(asked.SampleRate * asked.KernelSeconds), log, cancellationToken).ConfigureAwait(false);
        var options = asked with
        {
            Witnesses = cleaners?[0].Witnesses.Count ?? asked.Witnesses,
            Detectors = cleaners?.Select(c => c.Ifo).ToList() ?? asked.Detectors,
            WienerFilters = cleaners?.ToDictionary(c => c.Ifo, c => c.Fir),
            WhiteningTaps = whitening,
            Templates = bank,
            WhiteningDescription = cleaners is null ? "identity (no reference ASD given)"
                : $"{whitenTaps}-tap whitening FIR from each detector's strain ASD over the --fit span (median Welch, 2 s segments)",
        };
        var models = ModelRepositoryBuilder.Build(options);
        foreach (var c in cleaners ?? [])
            c.Annotate(models.Single(m => m.Name == ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, c.Ifo)).Config);
        return await WriteAsync(request.Directory, models, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the models, checks the repository and notes other versions Triton would serve instead.</summary>
    private static async Task<ModelRepositoryBuildResult> WriteAsync(string dir, IReadOnlyList<RepositoryModel> models, ModelRepositoryOptions options, CancellationToken cancellationToken)
    {
        await ModelRepository.WriteAsync(dir, models, cancellationToken).ConfigureAwait(false);
        var problems = ModelRepositoryCheck.Check(dir);
        var notes = new List<string>();
        if (problems.Count == 0)
        {
            foreach (var m in models)
            {
                var others = ModelRepository.Versions(Path.Combine(dir, m.Name)).Where(v => v != 1).ToList();
                if (others.Count > 0)
                    notes.Add($"note: {m.Name} also has version(s) {string.Join(", ", others)}; Triton's default policy serves the highest, not the 1/ just written");
            }
        }
        return new ModelRepositoryBuildResult(models, options, problems, notes);
    }

    /// <summary>What the Wiener fit read and produced, reused by the template detector's calibration.</summary>
    private readonly record struct Fitted(IReadOnlyList<WienerCleaner>? Cleaners, IReadOnlyDictionary<string, FrameSource>? Sources, Segment Span);

    /// <summary>
    /// The calibrated template bank. Background: for simulated frames, the simulator's own rendering of the fit span without
    /// injections (the same noise, lines and witnesses as the fit frames); otherwise the fit frames themselves (assumed signal-free).
    /// Either way cleaned by the fitted Wiener filters, then windows of K at the stride, 4 time slides.
    /// </summary>
    private static async Task<TemplateBank> TemplatesAsync(WienerFitRequest fit, Fitted f, ModelRepositoryOptions o, IReadOnlyList<float[]> whitening, int kernel,
        Action<string>? log, CancellationToken ct)
    {
        var rate = new SampleRate(o.SampleRate);
        var settings = new TemplateBankSettings { SampleRate = o.SampleRate };
        var background = new List<double[]>();
        string source;
        if (fit.Simulation is { } sim)
        {
            settings = TemplateBankSettings.Covering(sim.Injections) with { SampleRate = o.SampleRate };
            source = $"the simulator's injection-free rendering of {f.Span}";
            foreach (var c in f.Cleaners!)
            {
                var rendered = new DetectorSimulator(sim, c.Ifo).Render(f.Span, injections: false);
                var channels = new List<TimeSeries> { rendered[0] };
                foreach (var w in c.Witnesses)
                    channels.Add(rendered.FirstOrDefault(r => r.Channel == w) ?? throw new BadInputException($"{fit.ChannelSource}: witness {w} is not a channel the simulator writes"));
                background.Add(TemplateDetectorBuild.CleanedStrain(channels, c, rate));
            }
        }
        else
        {
            source = $"the --fit frames over {f.Span} (assumed signal-free)";
            foreach (var (c, d) in f.Cleaners!.Zip(fit.Detectors))
            {
                var data = await f.Sources![c.Ifo].ReadAsync([d.Strain.Value, .. c.Witnesses.Select(w => w.Value)], f.Span, ct).ConfigureAwait(false);
                background.Add(TemplateDetectorBuild.CleanedStrain(data.Channels, c, rate));
            }
        }
        log?.Invoke($"designing the template bank (masses {settings.MinMass}-{settings.MaxMass} Msun from {settings.LowFrequency} Hz) and calibrating it on {source}");
        var ifos = f.Cleaners!.Select(c => c.Ifo).ToList();
        var (design, calibration, bank) = TemplateDetectorBuild.Make(settings, ifos, whitening, background, kernel, o.Stride, batch: 16, threads: Environment.ProcessorCount);
        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"template bank: {design.Templates.Count} templates x {bank.Length} samples at {o.SampleRate / bank.Decimation} Hz, worst grid match {design.WorstMatch:F3}, least SNR kept {design.MinSnrFraction:F2}; {calibration}"));
        return bank;
    }

    private static async Task<Fitted> FitWienerAsync(WienerFitRequest fit, int sampleRate, Action<string>? log, CancellationToken ct)
    {
        var (low, high) = fit.Band;
        // A directory is a `gwrepro simulate` output: one cache per detector, <dir>/<IFO>.lcf.
        var sources = new Dictionary<string, FrameSource>();
        Segment span = default;
        var cleaners = new List<WienerCleaner>();
        foreach (var d in fit.Detectors)
        {
            var frames = await FitFrames.OpenAsync(fit.Frames, d.Ifo, fit.Start, fit.End, ct).ConfigureAwait(false);
            (sources[d.Ifo], span) = (frames.Source, frames.Span);
        }
        foreach (var d in fit.Detectors)
        {
            log?.Invoke($"fitting the {d.Ifo} Wiener cleaner: {d.Witnesses.Count} witnesses × {fit.Taps} taps on {span}, {low}–{high} Hz{(fit.WitnessHighpass is { } hp ? $", witnesses high-passed at {hp}" : "")}");
            cleaners.Add(await WienerCleanerFit.FitAsync(sources[d.Ifo], d.Ifo, d.Strain, d.Witnesses, span, new SampleRate(sampleRate), fit.Taps, fit.Advance, (low, high), cancellationToken: ct, highpass: fit.WitnessHighpass).ConfigureAwait(false));
        }
        if (cleaners.Select(c => c.Witnesses.Count).Distinct().Count() != 1)
            throw new BadInputException($"{fit.ChannelSource}: every detector needs the same number of witnesses for the shared snapshotter");
        return new Fitted(cleaners, sources, span);
    }
}
