using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GwReprocess.Benchmarks;

/// <summary>
/// gwrepro-train's training steps (TorchSharp, LibTorch 2.10 CPU) against PyTorch (Debian's python3-torch) on the same network, loss,
/// batch and threads: DeepClean (PSD-ratio loss) and BBHnet (binary cross-entropy); windows per second, paired rounds alternating which goes first.
/// </summary>
/// <remarks>
/// gwrepro-train runs as its own program (it cannot load into this Debian 12 host's process): GWREPRO_TRAIN or dist/train/gwrepro-train
/// (dotnet publish src/GwReprocess.Training -c Release -r linux-x64 -o dist/train), in the training root GWREPRO_TRAINING_ROOT or
/// /var/cache/gwrepro/training-trixie (training/make-root.sh).
/// </remarks>
internal sealed partial class TrainBenchmark : IBenchmark
{
    private const int Rounds = 3, Witnesses = 21, Length = 4096, Batch = 32, Steps = 10;
    private const int BbhBatch = 64, BbhSteps = 40;

    public string Name => "train";

    public string Description => "DeepClean and BBHnet training windows/s: gwrepro-train (TorchSharp) vs PyTorch, same network, loss, batch and threads";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        string repo = Tests.SourceTree.Root;
        string program = Environment.GetEnvironmentVariable("GWREPRO_TRAIN") ?? Path.Combine(repo, "dist", "train", "gwrepro-train");
        string root = Environment.GetEnvironmentVariable("GWREPRO_TRAINING_ROOT") ?? "/var/cache/gwrepro/training-trixie";
        if (!File.Exists(program)) { report.Note($"{program} missing: dotnet publish src/GwReprocess.Training -c Release -r linux-x64 -o dist/train"); return; }
        int threads = Environment.ProcessorCount;
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {threads} threads, {Rounds} paired rounds per network");
        await PairedAsync(report, "DeepClean", $"{Witnesses} witnesses x {Length} samples, batch {Batch}, {Steps} timed steps after 2 warm-up",
            ["bench", "--witnesses", $"{Witnesses}", "--length", $"{Length}", "--batch", $"{Batch}", "--steps", $"{Steps}", "--threads", $"{threads}", "--root", root],
            program, [Path.Combine(repo, "tests", "GwReprocess.Benchmarks", "reference", "train_deepclean.py"), $"{Witnesses}", $"{Length}", $"{Batch}", $"{Steps}", $"{threads}"],
            cancellationToken);
        // Each architecture on what a 1 s window leaves after its input filter: the paper's full-rate high-pass, Deep Filtering's decimating band-pass.
        foreach (var (label, plan) in ((string, Models.BbhNetArchitecture)[])[("BBHnet (Deep Filtering, trained default)", Models.BbhNetArchitecture.DeepFiltering), ("BBHnet (paper-era)", Models.BbhNetArchitecture.Paper)])
        {
            int length = Models.BbhNetArchitecture.FilteredLength(4096, Models.BbhNetArchitecture.InputFilterTaps, plan.InputStride);
            string architecture = plan.Name;
            await PairedAsync(report, label, $"2 detectors x {length} samples, batch {BbhBatch}, {BbhSteps} timed steps after 2 warm-up",
                ["bench", "--network", "bbhnet", "--architecture", architecture, "--length", $"{length}", "--batch", $"{BbhBatch}", "--steps", $"{BbhSteps}", "--threads", $"{threads}", "--root", root],
                program, [Path.Combine(repo, "tests", "GwReprocess.Benchmarks", "reference", "train_bbhnet.py"), $"{length}", $"{BbhBatch}", $"{BbhSteps}", $"{threads}", architecture],
                cancellationToken);
        }
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static async Task PairedAsync(BenchmarkReport report, string network, string shape, IReadOnlyList<string> oursArgs, string program,
        IReadOnlyList<string> torchArgs, CancellationToken cancellationToken)
    {
        var ours = new List<double>();
        var torch = new List<double>();
        string? torchVersion = null;
        for (int round = 0; round < Rounds; round++)
        {
            async Task Ours() => ours.Add(Rate(await RunAsync(program, oursArgs, cancellationToken)));
            async Task Torch()
            {
                string output = await RunAsync("/usr/bin/python3", torchArgs, cancellationToken);
                torch.Add(Rate(output));
                torchVersion ??= TorchVersion().Match(output).Groups[1].Value;
            }
            // Alternate which goes first, so drift in the machine's load hits both alike.
            if (round % 2 == 0) { await Ours(); await Torch(); } else { await Torch(); await Ours(); }
        }
        var ratios = ours.Zip(torch, (a, b) => a / b).Order().ToList();
        report.Note($"{network}: {shape}");
        report.Figure($"{network}: gwrepro-train windows/s (median)", Median(ours), "windows/s");
        report.Figure($"{network}: PyTorch {torchVersion} windows/s (median)", Median(torch), "windows/s");
        report.Figure($"{network}: gwrepro-train / PyTorch (median of paired rounds)", ratios[ratios.Count / 2], "x");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static double Rate(string output)
    {
        var m = WindowsPerSecond().Match(output);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("no windows/s in:\n" + output);
    }

    private static async Task<string> RunAsync(string file, IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} exited {p.ExitCode}: {await stderr}");
        return await stdout;
    }

    [GeneratedRegex(@"windows/s ([0-9.]+)")]
    private static partial Regex WindowsPerSecond();

    [GeneratedRegex(@"torch ([0-9][^)\s]*)")]
    private static partial Regex TorchVersion();
}
