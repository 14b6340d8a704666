using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary><c>[cleaning] witness_highpass</c> end to end: the noise a job subtracts against a one-shot computation from witnesses high-passed over the whole padded span.</summary>
[Collection(SmallWienerRunCollection.Name)]
public sealed class ClientWitnessHighpassTests(SmallWienerRunFixture run, ITestOutputHelper output)
{
    private const int Rate = 4096, Kernel = 4096, Stride = 256;

    [Fact]
    public async Task The_stream_high_passes_every_witness_as_the_fit_does_over_the_whole_span()
    {
        // The fixture's cleaners, recorded as fitted on 1 Hz high-passed witnesses, in a repository of their own and its own server.
        var hp = new WitnessHighpass(1.0);
        string repo = Path.Combine(run.Root, "repo-highpass");
        var models = ModelRepositoryBuilder.Build(SmallWienerRunFixture.Geometry with
        {
            Cleaner = CleanerKind.Wiener,
            WienerFilters = run.Cleaners.ToDictionary(c => c.Key, c => c.Value.Fir),
        });
        foreach (var c in run.Cleaners.Values)
            (c with { Highpass = hp }).Annotate(models.Single(m => m.Name == ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, c.Ifo)).Config);
        await ModelRepository.WriteAsync(repo, models);
        int port = ClientRunDirectory.FreePort();
        await using var server = GwreproBackground.Start("server-highpass", ["serve", "--model-repository", repo, "--grpc-port", port.ToString(CultureInfo.InvariantCulture),
            "--http-port", "0", "--metrics-port", "0", "--intra-op-threads", "1", "--inter-op-threads", "1"], run.Root);
        await server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(120));

        // Causal aggregation keeps the one-shot reference simple (ClientCausalTests checks that aggregation on its own).
        const double latency = 0.25;
        int l = (int)(latency * Rate);
        var result = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(
            await run.WorkflowAsync("highpass", cleaning: $"causal_latency = {latency}\nwitness_highpass = 1.0"), $"127.0.0.1:{port}"), timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.StdErr);

        var padded = SmallWienerRunFixture.Core.Protract(SmallWienerRunFixture.Padding);
        int pad = (int)(SmallWienerRunFixture.Padding.TotalSeconds * Rate), n = (int)(SmallWienerRunFixture.Core.Duration.TotalSeconds * Rate);
        foreach (var ifo in new[] { "H1", "L1" })
        {
            // One shot from the stream's sample 0 (the padded start): resample each channel whole, high-pass each witness whole,
            // standardise with the model's scales (to float32, as streamed), then the causal average of the windows' predictions.
            var cleaner = run.Cleaners[ifo];
            var source = new FrameSource(FrameCache.Read(Path.Combine(run.Frames, $"{ifo}.lcf")));
            var data = await source.ReadAsync([$"{ifo}:GDS-CALIB_STRAIN", .. cleaner.Witnesses.Select(w => w.Value)], padded);
            var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
            int total = at4096[0].Length;
            double[] Noise(bool highpass)
            {
                var witnesses = new double[cleaner.Witnesses.Count][];
                for (int c = 0; c < witnesses.Length; c++)
                {
                    var s = cleaner.Scaling[c];
                    var w = highpass ? hp.Apply(at4096[c + 1].Samples.Span, Rate) : at4096[c + 1].Samples.ToArray();
                    witnesses[c] = w.Select(x => (double)(float)((x - s.Mean) / s.Scale)).ToArray();
                }
                int from = 2 * Rate, to = total - 2 * Rate;
                var sum = new double[total];
                var count = new int[total];
                for (long end = Stride; end <= total; end += Stride)
                {
                    long start = end - Kernel;
                    if (start < 0 || end - l >= to || end <= from) continue;
                    var window = WienerFit.Predict(cleaner.Fir, witnesses.Select(w => (ReadOnlyMemory<double>)w.AsMemory((int)start, Kernel)).ToList());
                    for (int t = (int)(end - l); t < end; t++)
                    {
                        sum[t] += window[t - (int)start];
                        count[t]++;
                    }
                }
                var averaged = new double[to - from];
                for (int t = from; t < to; t++) averaged[t - from] = sum[t] / count[t];
                var passed = at4096[0].WithSamples(averaged).Bandpass(15, 500).Samples.ToArray();
                return passed[(pad - from)..(pad - from + n)];
            }
            var reference = Noise(highpass: true);
            var unfiltered = Noise(highpass: false);

            var raw = at4096[0].Samples.Span.Slice(pad, n).ToArray();
            var files = new[] { 16, 32 }.Select(s => Path.Combine(run.Root, "highpass", "out", "cleaned", ifo, $"{ifo[0]}-{ifo}_CLEAN-{SmallWienerRunFixture.T.Seconds + s}-16.gwf"));
            var cleaned = (await (await FrameSource.FromFilesAsync(files)).ReadAsync([$"{ifo}:GDS-CALIB_STRAIN_DEEPCLEAN"], SmallWienerRunFixture.Core)).Channels[0].Samples.ToArray();
            Assert.Equal(n, cleaned.Length);
            double worst = 0, peak = 0, apart = 0;
            for (int i = 0; i < n; i++)
            {
                double subtracted = raw[i] - cleaned[i];
                worst = Math.Max(worst, Math.Abs(subtracted - reference[i]));
                peak = Math.Max(peak, Math.Abs(reference[i]));
                apart = Math.Max(apart, Math.Abs(unfiltered[i] - reference[i]));
            }
            output.WriteLine($"{ifo}: streamed vs one-shot high-passed {worst / peak:G3} of the peak noise; one-shot without the high-pass {apart / peak:G3} away");
            Assert.True(worst <= 1e-4 * peak, $"{ifo}: the streamed noise differs from the one-shot high-passed computation by {worst / peak:G3} of the peak");
            Assert.True(apart > 100 * worst, $"{ifo}: the high-pass changes the noise by only {apart / peak:G3} of the peak: the test would not see it missing");
        }
    }
}
