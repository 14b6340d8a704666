using System.Diagnostics;
using GwReprocess.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>
/// Training steps per second of DeepClean on random data (forward, PSD-ratio loss, backward, Adam), for the benchmark that sets
/// gwrepro-train against PyTorch on the same network, batch and threads.
/// </summary>
internal static class TrainingStepBenchmark
{
    /// <summary>Runs <paramref name="warmup"/> untimed then <paramref name="steps"/> timed steps; returns windows per second.</summary>
    public static double Run(int witnesses, int length, int batch, int steps, int warmup, int threads, int seed)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        using var net = new DeepCleanModule(witnesses);
        net.train();
        using var adam = new AdamOptimizer(net.parameters(), 1e-3, 0);
        using var loss = new PsdRatioLoss(4096, 0.5, 0.25, [(55, 65)], 1);
        using var x = randn(batch, witnesses, length);
        using var y = randn(batch, length);
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) clock.Start();
            using var scope = NewDisposeScope();
            adam.zero_grad();
            var l = loss.Forward(net.forward(x), y);
            l.backward();
            adam.step();
            _ = l.item<float>();
        }
        return steps * batch / clock.Elapsed.TotalSeconds;
    }

    /// <summary>As <see cref="Run"/> for BBHnet after its fixed input filter (training applies that to the data once): 2 detectors × <paramref name="length"/> samples, binary cross-entropy on random labels.</summary>
    public static double RunBbhNet(BbhNetArchitecture plan, int length, int batch, int steps, int warmup, int threads, int seed)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        using var net = new BbhNetModule(plan, 2, length, 0.5);
        net.train();
        using var adam = new AdamOptimizer(net.parameters(), 1e-3, 0);
        using var bce = nn.BCEWithLogitsLoss();
        using var x = randn(batch, 2, length);
        using var y = randint(0, 2, [batch]).to_type(ScalarType.Float32);
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) clock.Start();
            using var scope = NewDisposeScope();
            adam.zero_grad();
            var l = bce.forward(net.forward(x), y);
            l.backward();
            adam.step();
            _ = l.item<float>();
        }
        return steps * batch / clock.Elapsed.TotalSeconds;
    }
}
