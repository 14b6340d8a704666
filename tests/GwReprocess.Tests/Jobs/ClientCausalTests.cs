using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary><c>[cleaning] causal_latency</c> end to end: the written cleaned strain against a one-shot computation of the causal average.</summary>
/// <remarks>
/// The definition (AggregationOptions.CausalLatency): a sample averages the windows in whose last <c>latency</c> samples it lies.
/// With the latency a whole number of strides, that is gw-iaas's online aggregator (num_updates = latency / stride predictions
/// per sample, output latency = latency), which the latency here is.
/// </remarks>
[Collection(SmallWienerRunCollection.Name)]
public sealed class ClientCausalTests(SmallWienerRunFixture run, ITestOutputHelper output)
{
    private const int Rate = 4096, Kernel = 4096, Stride = 256;

    /// <summary>The noise the job subtracted (raw strain − cleaned strain) over the core, read back from the cleaned frames.</summary>
    private static async Task<double[]> SubtractedNoiseAsync(string outDir, string ifo, double[] raw)
    {
        var files = new[] { 16, 32 }.Select(s => Path.Combine(outDir, "cleaned", ifo, $"{ifo[0]}-{ifo}_CLEAN-{SmallWienerRunFixture.T.Seconds + s}-16.gwf"));
        var cleaned = (await (await FrameSource.FromFilesAsync(files)).ReadAsync([$"{ifo}:GDS-CALIB_STRAIN_DEEPCLEAN"], SmallWienerRunFixture.Core)).Channels[0];
        Assert.Equal(raw.Length, cleaned.Length);
        var noise = new double[raw.Length];
        for (int i = 0; i < noise.Length; i++) noise[i] = raw[i] - cleaned.Samples.Span[i];
        return noise;
    }

    [Fact]
    public async Task Causal_mode_writes_the_average_over_windows_ending_within_the_latency_after_each_sample()
    {
        const double latency = 0.25; // 1024 samples: each sample is averaged over the 4 windows that end within 0.25 s after it
        int l = (int)(latency * Rate);
        var causalRun = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(
            await run.WorkflowAsync("causal", cleaning: $"causal_latency = {latency}"), run.ServerAddress), timeout: TimeSpan.FromMinutes(3));
        Assert.True(causalRun.ExitCode == 0, causalRun.StdErr);
        var plainRun = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(
            await run.WorkflowAsync("non-causal"), run.ServerAddress), timeout: TimeSpan.FromMinutes(3));
        Assert.True(plainRun.ExitCode == 0, plainRun.StdErr);

        var padded = SmallWienerRunFixture.Core.Protract(SmallWienerRunFixture.Padding);
        int pad = (int)(SmallWienerRunFixture.Padding.TotalSeconds * Rate), n = (int)(SmallWienerRunFixture.Core.Duration.TotalSeconds * Rate);
        foreach (var ifo in new[] { "H1", "L1" })
        {
            // One shot over the padded span: resample every channel whole, standardise the witnesses with the model's scales
            // (to float32, as the stream carries them). The stream's sample 0 is the padded start.
            var cleaner = run.Cleaners[ifo];
            var source = new FrameSource(FrameCache.Read(Path.Combine(run.Frames, $"{ifo}.lcf")));
            var data = await source.ReadAsync([$"{ifo}:GDS-CALIB_STRAIN", .. cleaner.Witnesses.Select(w => w.Value)], padded);
            var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
            int total = at4096[0].Length;
            var witnesses = new double[cleaner.Witnesses.Count][];
            for (int c = 0; c < witnesses.Length; c++)
            {
                var s = cleaner.Scaling[c];
                witnesses[c] = at4096[c + 1].Samples.ToArray().Select(x => (double)(float)((x - s.Mean) / s.Scale)).ToArray();
            }

            // Window j covers stream samples [(j+1)·stride − K, (j+1)·stride); the Wiener model sees only that window (zeros
            // outside). Causal: sample t averages the windows ending in (t, t + latency], i.e. those whose last `latency`
            // samples hold it. Computed from 2 s in to 2 s before the end, far enough from both ends that every sample
            // has all its windows.
            int from = 2 * Rate, to = total - 2 * Rate;
            var sum = new double[total];
            var count = new int[total];
            for (long end = Stride; end <= total; end += Stride)
            {
                long start = end - Kernel;
                if (start < 0 || end - l >= to || end <= from) continue;
                var slices = witnesses.Select(w => (ReadOnlyMemory<double>)w.AsMemory((int)start, Kernel)).ToList();
                var window = WienerFit.Predict(cleaner.Fir, slices);
                for (int t = (int)(end - l); t < end; t++)
                {
                    sum[t] += window[t - (int)start];
                    count[t]++;
                }
            }
            var averaged = new double[to - from];
            for (int t = from; t < to; t++)
            {
                Assert.Equal(l / Stride, count[t]);
                averaged[t - from] = sum[t] / count[t];
            }
            var reference = at4096[0].WithSamples(averaged).Bandpass(15, 500).Samples.ToArray();

            var raw = at4096[0].Samples.Span.Slice(pad, n).ToArray();
            var causal = await SubtractedNoiseAsync(Path.Combine(run.Root, "causal", "out"), ifo, raw);
            var plain = await SubtractedNoiseAsync(Path.Combine(run.Root, "non-causal", "out"), ifo, raw);
            double worst = 0, peak = 0, apart = 0;
            for (int i = 0; i < n; i++)
            {
                double expected = reference[pad - from + i];
                worst = Math.Max(worst, Math.Abs(causal[i] - expected));
                peak = Math.Max(peak, Math.Abs(expected));
                apart = Math.Max(apart, Math.Abs(plain[i] - causal[i]));
            }
            output.WriteLine($"{ifo}: causal vs one-shot {worst / peak:G3} of the peak noise; non-causal vs causal {apart / peak:G3}");
            Assert.True(worst <= 1e-4 * peak, $"{ifo}: causal noise differs from the one-shot causal average by {worst:G3} (peak {peak:G3}, relative {worst / peak:G3})");
            // The option took effect: without it the windows' look-ahead-starved last samples are excluded (edge 1/8 s), and the output differs.
            Assert.True(apart > 100 * worst && apart > 1e-3 * peak, $"{ifo}: causal and non-causal outputs differ by only {apart:G3} (peak {peak:G3})");
        }
    }
}
