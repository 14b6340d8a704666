using FsCheck;
using GwReprocess.Jobs;

namespace GwReprocess.Tests.Jobs;

public class NoiseAggregatorTests
{
    /// <summary>Brute force over whole arrays: the definition the streaming aggregator must equal.</summary>
    private static double[] Reference(AggregationOptions o, float[][] windows, int streamLength)
    {
        var sum = new double[streamLength];
        var count = new int[streamLength];
        for (int j = 0; j < windows.Length; j++)
        {
            long start = (long)(j + 1) * o.Stride - o.WindowLength;
            if (start < 0) continue;
            for (int k = o.From; k < o.To; k++)
            {
                long t = start + k;
                if (t >= streamLength) break;
                sum[t] += windows[j][k];
                count[t]++;
            }
        }
        return sum.Select((v, i) => count[i] > 0 ? v / count[i] : double.NaN).ToArray();
    }

    private static (double[] Out, List<int> Chunks) Stream(AggregationOptions o, float[][] windows, int drainChunk)
    {
        var agg = new NoiseAggregator(o);
        var output = new List<double>();
        var chunks = new List<int>();
        var buffer = new double[drainChunk];
        for (int j = 0; j < windows.Length; j++)
        {
            agg.Add(j, windows[j]);
            int n;
            while ((n = agg.Drain(buffer)) > 0) { output.AddRange(buffer.AsSpan(0, n).ToArray()); chunks.Add(n); }
        }
        int m;
        while ((m = agg.DrainAll(buffer)) > 0) output.AddRange(buffer.AsSpan(0, m).ToArray());
        return (output.ToArray(), chunks);
    }

    private static float[][] RandomWindows(int count, int k, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, k).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(64, 8, 0, null, 40, 7)]
    [InlineData(64, 8, 12, null, 40, 1000)]
    [InlineData(64, 16, 8, null, 33, 5)]
    [InlineData(64, 64, 0, null, 10, 64)]
    [InlineData(64, 8, 0, 24, 40, 3)]
    [InlineData(4096, 512, 256, null, 30, 4096)]
    public void Streaming_equals_the_definition(int k, int stride, int edge, int? latency, int windows, int drain)
    {
        var o = new AggregationOptions(k, stride, edge, latency);
        var w = RandomWindows(windows, k, seed: k + stride + edge);
        var (streamed, _) = Stream(o, w, drain);
        int length = (int)((long)windows * stride);
        var reference = Reference(o, w, length);
        Assert.Equal(reference.Length, streamed.Length);
        for (int i = 0; i < reference.Length; i++)
        {
            if (double.IsNaN(reference[i])) Assert.True(double.IsNaN(streamed[i]), $"sample {i} should be uncovered");
            else Assert.Equal(reference[i], streamed[i]); // same additions in the same order: bit for bit
        }
    }

    [Fact]
    public void Warm_up_windows_are_dropped_and_uncovered_samples_are_nan()
    {
        // K = 64, stride 16: windows 0..2 start before sample 0 (zero state) and are ignored.
        var o = new AggregationOptions(64, 16);
        var w = Enumerable.Range(0, 10).Select(j => Enumerable.Repeat(j < 3 ? 1000f : 1f, 64).ToArray()).ToArray();
        var (output, _) = Stream(o, w, 1000);
        Assert.DoesNotContain(output, v => v == 1000);
        // Window 3 starts at sample 0: every sample from 0 on is covered by real windows only.
        Assert.All(output, v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void Edges_never_reach_the_output()
    {
        var o = new AggregationOptions(64, 8, Edge: 16);
        var w = Enumerable.Range(0, 30).Select(_ =>
        {
            var x = Enumerable.Repeat(2f, 64).ToArray();
            for (int k = 0; k < 16; k++) { x[k] = 1e6f; x[63 - k] = -1e6f; }
            return x;
        }).ToArray();
        var (output, _) = Stream(o, w, 100);
        var covered = output.Where(v => !double.IsNaN(v)).ToArray();
        Assert.NotEmpty(covered);
        Assert.All(covered, v => Assert.Equal(2.0, v));
        // The first 16 samples are only ever in excluded edges: uncovered, so the job must pad past them.
        Assert.All(output.Take(16), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Samples_are_released_as_soon_as_final_and_memory_stays_bounded()
    {
        var o = new AggregationOptions(4096, 512, 256);
        var agg = new NoiseAggregator(o);
        var window = new float[4096];
        var buffer = new double[8192];
        long drained = 0;
        for (int j = 0; j < 5000; j++)
        {
            agg.Add(j, window);
            drained += agg.Drain(buffer);
            // Never more than a window (plus a stride) of samples held back once streaming.
            if (j > 16) Assert.InRange((long)(j + 1) * 512 - drained, 0, 4096 + 512);
        }
    }

    [Fact]
    public void Out_of_order_or_wrong_length_windows_are_refused()
    {
        var agg = new NoiseAggregator(new AggregationOptions(64, 8));
        Assert.Throws<InvalidOperationException>(() => agg.Add(1, new float[64]));
        Assert.Throws<ArgumentException>(() => agg.Add(0, new float[63]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoiseAggregator(new AggregationOptions(64, 8, Edge: 30)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoiseAggregator(new AggregationOptions(64, 8, CausalLatency: 4)));
    }

    [FsCheck.Xunit.Property(MaxTest = 60)]
    public bool Any_drain_chunking_gives_the_same_samples(PositiveInt drain, PositiveInt strideSeed)
    {
        int stride = new[] { 1, 2, 4, 8, 16, 32 }[strideSeed.Get % 6];
        var o = new AggregationOptions(32, stride, Edge: stride < 16 ? 4 : 0);
        var w = RandomWindows(20, 32, seed: 3);
        var (a, _) = Stream(o, w, drain.Get % 50 + 1);
        var (b, _) = Stream(o, w, 10_000);
        return a.Length == b.Length && a.Zip(b).All(p => p.First.Equals(p.Second));
    }
}
