using System.Diagnostics;
using GwReprocess.Frames.Gwf;
using GwReprocess.Simulation;
using GwReprocess.Time;
using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Benchmarks;

/// <summary>
/// <c>gwrepro simulate</c> throughput: seconds of two-detector, 21-witness data rendered (and written as GWF) per
/// wall-clock second, against references measured in the same run: the raw FFT work the strain noise needs, and
/// the GWF writer alone writing frames of the same size.
/// </summary>
public sealed class SimulateBenchmark : IBenchmark
{
    public string Name => "simulate";

    public string Description => "simulated seconds of H1+L1 (strain 16384 Hz + 21 witnesses) per second, render only and written to GWF";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const int seconds = 512;
        var options = new SimulationOptions { Start = GpsTime.FromSeconds(1_000_000_000), Duration = seconds, FrameLength = 4096, Injections = new InjectionSettings { Rate = 0.01 } };
        report.Note($"{seconds} s of H1+L1, 21 witnesses each, injection rate 0.01/s, {Environment.ProcessorCount} cores");

        // Where the time goes: one detector on one thread, adding one ingredient at a time.
        {
            var o0 = options with { Injections = new InjectionSettings { Rate = 0 }, Witnesses = 0, Modulations = [], MainsHarmonics = [] };
            var o1 = options with { Injections = new InjectionSettings { Rate = 0 }, Witnesses = 0 };
            var o2 = options with { Witnesses = 0 };
            var o2b = options with { Witnesses = 0, Injections = options.Injections with { Waveform = WaveformFamily.PhenomB } };
            var o3 = options with { Injections = new InjectionSettings { Rate = 0 } };
            foreach (var (label, o) in new[] { ("strain noise only", o0), ("strain + lines", o1), ("strain + lines + injections", o2), ("strain + lines + phenomb injections", o2b), ("strain + lines + 21 witnesses", o3) })
            {
                var sim = new DetectorSimulator(o, "H1");
                var st = new double[64 * 16384];
                var ww = sim.Witnesses.Select(c => new double[64 * c.SampleRate]).ToArray();
                sim.RenderStrain(999_000_000, 64, st);
                var sw0 = Stopwatch.StartNew();
                for (long t = 1_000_000_000; t < 1_000_000_000 + seconds; t += 64)
                {
                    sim.RenderStrain(t, 64, st);
                    for (int i = 0; i < ww.Length; i++) sim.RenderWitness(i, t, 64, ww[i]);
                }
                report.Figure(label + " (1 detector, 1 thread)", seconds / sw0.Elapsed.TotalSeconds, "s of data/s");
            }
        }
        // One injection's waveform at 16384 Hz, per family, over the same 48 sources of the population (10-80 M☉ from 20 Hz).
        {
            var schedule = new InjectionSchedule(StreamKey.FromSeed(options.Seed), ["H1"], new InjectionSettings { Rate = 0.05 });
            var sources = schedule.Within(new Segment(1_000_000_000, 1_000_004_096)).Take(48).ToList();
            foreach (var family in new[] { WaveformFamily.TaylorF2ZeroPn, WaveformFamily.PhenomB })
            {
                InjectionWaveform.Create(sources[0], sources[0].For("H1"), 16384, 20, family);
                var sw1 = Stopwatch.StartNew();
                foreach (var inj in sources) InjectionWaveform.Create(inj, inj.For("H1"), 16384, 20, family);
                report.Figure($"{Waveforms.Name(family)} waveform synthesis (mean of {sources.Count}, 1 thread)", sw1.Elapsed.TotalMilliseconds / sources.Count, "ms");
            }
        }
        // Warm-up: filter design and JIT.
        foreach (var ifo in options.Ifos) new DetectorSimulator(options, ifo).Render(new Segment(999_000_000, 999_000_064));

        // Reference 1: forward + inverse real FFT at the strain block length (2^20), the irreducible noise cost.
        var buffer = new double[(1 << 20) + 2];
        for (int i = 0; i < 1 << 20; i++) buffer[i] = Math.Sin(i);
        var (fft, _) = BenchmarkReport.Measure(() =>
        {
            Fourier.ForwardReal(buffer, 1 << 20, FourierOptions.Matlab);
            Fourier.InverseReal(buffer, 1 << 20, FourierOptions.Matlab);
        }, 3);
        var block = new NoiseFilter(DesignCurve.Asd, 16384, 1 << 17).BlockLength;
        report.Figure("MathNet fft (2^20 forward+inverse per 56 s strain block, 2 detectors, 1 core)", block / 16384.0 / fft.TotalSeconds / options.Ifos.Count, "s of data/s");
        var real = GwReprocess.Dsp.RealFft.For(1 << 20);
        var (own, _) = BenchmarkReport.Measure(() => { real.Forward(buffer); real.Inverse(buffer); }, 3);
        double fftSecondsPerSecond = block / 16384.0 / own.TotalSeconds / options.Ifos.Count;
        report.Figure("fft reference: Dsp.RealFft 2^20 forward+inverse per strain block, 2 detectors, 1 core", fftSecondsPerSecond, "s of data/s");

        // Render only, detectors in parallel as the run does.
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(options.Ifos.Select(ifo => Task.Run(() =>
        {
            var sim = new DetectorSimulator(options, ifo);
            var strain = new double[64 * 16384];
            var w = sim.Witnesses.Select(c => new double[64 * c.SampleRate]).ToArray();
            for (long t = options.Start.Seconds; t < options.Start.Seconds + seconds; t += 64)
            {
                sim.RenderStrain(t, 64, strain);
                for (int i = 0; i < w.Length; i++) sim.RenderWitness(i, t, 64, w[i]);
            }
        }, cancellationToken)));
        double render = seconds / sw.Elapsed.TotalSeconds;
        report.Figure("render (no I/O)", render, "s of data/s");

        // Full run into a temporary directory.
        string dir = Path.Combine(Path.GetTempPath(), "gwrepro-simbench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            sw.Restart();
            var result = await SimulationRun.RunAsync(options, new DirectoryOutput(dir), null, cancellationToken);
            double full = seconds / sw.Elapsed.TotalSeconds;
            long bytes = result.Files.Sum(f => new FileInfo(Path.Combine(dir, f.Name)).Length);
            report.Figure("simulate (render + write GWF)", full, "s of data/s");
            report.Figure("written", bytes / sw.Elapsed.TotalSeconds / 1e6, "MB/s");
            report.Figure("goal ratio (simulate / 200 s/s)", full / 200, "x");

            // Reference 2: the GWF writer alone, frames of the same layout from one pre-rendered frame.
            var sim = new DetectorSimulator(options, "H1");
            var frame = sim.Render(new Segment(1_000_000_000, 1_000_000_064));
            var channels = frame.Select((s, i) => GwfChannelData.FromSeries(s, i == 0 ? GwfChannelKind.Proc : GwfChannelKind.Adc)).ToList();
            sw.Restart();
            for (int d = 0; d < options.Ifos.Count; d++)
            {
                await GwfWriter.WriteFileAsync(Path.Combine(dir, $"ref-{d}.gwf"),
                    Enumerable.Range(0, seconds / 64).Select(k => new GwfFrameData(GpsTime.FromSeconds(1_000_000_000 + 64 * k), GpsDuration.FromSeconds(64), channels)),
                    new GwfWriteOptions { Compression = GwfCompression.Raw }, cancellationToken);
            }
            double writer = seconds / sw.Elapsed.TotalSeconds;
            report.Figure("gwf writer alone (2 detectors, sequential)", writer, "s of data/s");
            report.Figure("simulate / fft reference", full / fftSecondsPerSecond, "x");
            report.Figure("simulate / writer alone", full / writer, "x");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
