using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Simulation;
using GwReprocess.Tests.Frames;
using GwReprocess.Time;

namespace GwReprocess.Tests.Simulation;

/// <summary>What <c>gwrepro simulate</c> writes: GWF files read back through the frames reader, caches, segments, bit-identical reruns, the CLI.</summary>
public sealed class SimulationFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sim-files-" + Guid.NewGuid().ToString("N")[..8]);

    private static readonly SimulationOptions Small = new()
    {
        Start = GpsTime.FromSeconds(1_000_000_000),
        Duration = 40,
        FrameLength = 32,
        FrameDuration = 16,
        Witnesses = 3,
        Injections = new InjectionSettings { Rate = 0.05 },
    };

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task FilesReadBackThroughTheFrameSourceEqualTheSimulatorSamples()
    {
        var result = await SimulationRun.RunAsync(Small, new DirectoryOutput(_dir));
        // Files cut at GPS multiples of 32 s (1e9 is one): [1e9, 1e9+32) as two 16-s frames, then [1e9+32, 1e9+40).
        Assert.Equal(["H-H1_SIM-1000000000-32.gwf", "H-H1_SIM-1000000032-8.gwf", "L-L1_SIM-1000000000-32.gwf", "L-L1_SIM-1000000032-8.gwf"],
            result.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        await using (var file = await GwfFile.OpenAsync(Path.Combine(_dir, "H-H1_SIM-1000000000-32.gwf")))
        {
            Assert.Equal(2, file.Frames.Count);
            Assert.Equal(GwfChannelKind.Proc, file.KindOf("H1:GDS-CALIB_STRAIN"));
            Assert.Equal(GwfChannelKind.Adc, file.KindOf("H1:PEM-CS_MAINSMON_EBAY_1_DQ"));
            var verification = await file.VerifyAsync();
            Assert.True(verification.IsValid && verification.FileChecksumVerified, string.Join("; ", verification.Problems));
        }

        var sim = new DetectorSimulator(Small, "H1");
        var expected = sim.Render(Small.Span);
        var source = new FrameSource(FrameCache.Read(Path.Combine(_dir, SimulationRun.CacheName("H1"))));
        var channels = expected.Select(s => s.Channel.Value).ToList();
        var data = await source.ReadAsync(channels, Small.Span);
        for (int c = 0; c < channels.Count; c++)
        {
            Assert.Equal(expected[c].SampleRate, data.Channels[c].SampleRate);
            Assert.True(expected[c].Samples.Span.SequenceEqual(data.Channels[c].Samples.Span), $"{channels[c]} differs");
        }
        Assert.Equal([16384.0, 2048, 512, 256], data.Channels.Select(c => c.SampleRate.Hertz));
        Assert.Equal(SegmentList.Empty, data.Gaps);
    }

    [Fact]
    public async Task TheSameSeedAndSpanGiveBitIdenticalFiles()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        var options = Small with { Gaps = 1, Duration = 64 };
        await SimulationRun.RunAsync(options, new DirectoryOutput(a));
        await SimulationRun.RunAsync(options, new DirectoryOutput(b));
        var names = Directory.GetFiles(a).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names, Directory.GetFiles(b).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("injections.csv", names);
        Assert.Contains("truth.json", names);
        foreach (var name in names)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(a, name!));
            var other = await File.ReadAllBytesAsync(Path.Combine(b, name!));
            if (name!.EndsWith(".lcf", StringComparison.Ordinal))
            {
                // Caches name their own directory.
                Assert.Equal(File.ReadAllText(Path.Combine(a, name)).Replace(a, "X"), File.ReadAllText(Path.Combine(b, name)).Replace(b, "X"));
                continue;
            }
            Assert.True(bytes.AsSpan().SequenceEqual(other), $"{name} differs between identical runs");
        }
        Assert.Contains(names, n => n!.EndsWith(".gwf", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GapsLeaveNoFramesAndTheSegmentFileAndCacheAgree()
    {
        var options = Small with { Duration = 600, FrameLength = 256, FrameDuration = 64, Witnesses = 0, Gaps = 2, Ifos = ["H1"], Injections = new InjectionSettings { Rate = 0 } };
        var result = await SimulationRun.RunAsync(options, new DirectoryOutput(_dir));
        var science = SegmentFile.Read(Path.Combine(_dir, SimulationRun.SegmentFileName("H1")));
        Assert.Equal(SimulationRun.ScienceSegments(options, "H1"), science);
        Assert.True(science.TotalDuration < GpsDuration.FromSeconds(600));
        Assert.True(science.Count is >= 2 and <= 3);
        var cache = FrameCache.Read(Path.Combine(_dir, SimulationRun.CacheName("H1")));
        Assert.Equal(science, cache.Coverage());
        foreach (var e in cache.Entries)
        {
            // No file crosses a GPS multiple of the frame length.
            Assert.Equal(e.Span.Start.Seconds / 256, (e.Span.End.Seconds - 1) / 256);
            Assert.True(File.Exists(e.LocalPath));
        }
        Assert.Equal(cache.Entries.Count, result.Files.Count);
    }

    [Fact]
    public void CliWritesFramesAndRejectsBadOptionsWithExitCode2()
    {
        var ok = FramesCliTests.Gwrepro("simulate", "--start", "1000000000", "--duration", "8", "--ifos", "H1", "--frame-length", "8",
            "--witnesses", "2", "--injection-rate", "0", "--seed", "3", "--out", _dir, "--json");
        Assert.True(ok.Exit == 0, ok.Err);
        Assert.Contains("H-H1_SIM-1000000000-8.gwf", ok.Out);
        Assert.True(File.Exists(Path.Combine(_dir, "H-H1_SIM-1000000000-8.gwf")));
        Assert.Equal("geocent_time,mass1,mass2,chirp_mass,distance_mpc,H1_time,H1_amplitude,H1_phase,H1_snr,network_snr\n",
            File.ReadAllText(Path.Combine(_dir, "injections.csv")));

        foreach (var (args, mention) in new[]
        {
            (new[] { "--ifos", "H1,H1" }, "--ifos"),
            (new[] { "--duration", "0" }, "--duration"),
            (new[] { "--start", "yesterday" }, "--start"),
            (new[] { "--witness-names", "H1:PEM-X" }, "--witness-names"),
            (new[] { "--ifos", "H1", "--out", "http://example.org/frames" }, "--out"),
        })
        {
            string[] full = args.Contains("--out") ? ["simulate", .. args] : ["simulate", "--out", Path.Combine(_dir, "bad"), .. args];
            var r = FramesCliTests.Gwrepro(full);
            Assert.Equal(2, r.Exit);
            var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("gwrepro simulate: ", line);
            Assert.Contains(mention, line);
        }
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
    }
}

/// <summary>The shipped local demo asks for exactly the channels the simulator writes.</summary>
public sealed class LocalDemoWorkflowTests
{
    [Fact]
    public void LocalDemoListsTheSimulatorsChannelsInItsOrder()
    {
        var workflow = GwReprocess.Workflow.WorkflowConfig.Load(Path.Combine(SourceTree.Root, "workflows", "local-demo.toml"));
        var options = GwReprocess.Workflow.WorkflowSimulation.Options(workflow);
        Assert.Equal(["H1", "L1"], options.Ifos);
        Assert.Equal(3600, options.Duration);
        foreach (var d in workflow.Detectors)
        {
            var sim = new DetectorSimulator(options with { Witnesses = 21, WitnessNames = SimulationOptions.DefaultWitnessNames }, d.Ifo);
            Assert.Equal(sim.StrainChannel, d.Strain.Value);
            Assert.Equal(sim.Witnesses.Select(w => w.Name), d.Witnesses.Select(w => w.Value));
        }
    }

    [Fact]
    public async Task SimulateFromTheWorkflowWritesTheChannelsItNames()
    {
        string path = Path.Combine(SourceTree.Root, "workflows", "local-demo.toml");
        string outDir = Path.Combine(Path.GetTempPath(), "sim-wf-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var r = FramesCliTests.Gwrepro("simulate", "--workflow", path, "--duration", "8", "--frame-length", "8", "--injection-rate", "0", "--out", outDir, "--quiet");
            Assert.True(r.Exit == 0, r.Err);
            var workflow = GwReprocess.Workflow.WorkflowConfig.Load(path);
            foreach (var d in workflow.Detectors)
            {
                await using var file = await GwfFile.OpenAsync(Path.Combine(outDir, $"{d.Ifo[..1]}-{d.Ifo}_SIM-1000000000-8.gwf"));
                Assert.Equal(d.Witnesses.Select(w => w.Value).Append(d.Strain.Value).Order(StringComparer.Ordinal), file.ChannelNames.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
