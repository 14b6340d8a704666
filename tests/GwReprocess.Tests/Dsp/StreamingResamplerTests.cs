using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Chunk-by-chunk resampling gives exactly the one-shot samples, whatever the chunking.</summary>
public class StreamingResamplerTests
{
    private static readonly double[] Input = ReferenceFile.Dsp16384.Input;

    [Theory]
    [InlineData(1, 4, 1)]
    [InlineData(1, 4, 2)]
    [InlineData(1, 4, 3)]
    [InlineData(1, 4, 1000)]
    [InlineData(1, 4, 16384)]   // one frame of one second
    [InlineData(1, 4, 131072)]  // the whole file in one chunk
    [InlineData(2, 1, 1)]
    [InlineData(2, 1, 4097)]
    [InlineData(3, 7, 5)]
    [InlineData(147, 160, 1)]
    [InlineData(147, 160, 16384)]
    [InlineData(16, 1, 1)]      // a 256 Hz witness to 4096 Hz
    [InlineData(16, 1, 256)]
    public void ChunkedEqualsOneShot(int up, int down, int chunk)
    {
        var x = up > 4 ? Input.AsSpan(0, 8192).ToArray() : Input;
        var filter = ResamplingFilter.Create(up, down);
        var expected = PolyphaseResampler.Resample(x, filter);

        var stream = new StreamingResampler(filter);
        var actual = new double[expected.Length];
        var scratch = new double[stream.MaxOutputLength(chunk)];
        int written = 0;
        for (int i = 0; i < x.Length; i += chunk)
        {
            int n = Math.Min(chunk, x.Length - i);
            int got = stream.Process(x.AsSpan(i, n), scratch);
            Assert.Equal(filter.OutputsReadyAfter(stream.InputCount), stream.OutputCount);
            scratch.AsSpan(0, got).CopyTo(actual.AsSpan(written));
            written += got;
        }
        var tail = stream.Flush();
        tail.CopyTo(actual.AsSpan(written));
        written += tail.Length;

        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void RandomChunkSizesEqualOneShot()
    {
        var rng = new Random(42);
        var filter = ResamplingFilter.Create(1, 4);
        var expected = PolyphaseResampler.Resample(Input, filter);
        var stream = new StreamingResampler(filter);
        var parts = new List<double>();
        for (int i = 0; i < Input.Length;)
        {
            int n = Math.Min(rng.Next(1, 5000), Input.Length - i);
            parts.AddRange(stream.Process(Input.AsSpan(i, n)));
            i += n;
        }
        parts.AddRange(stream.Flush());
        Assert.Equal(expected, parts.ToArray());
    }

    [Fact]
    public void StreamEmitsOnlyWhatTheInputsDetermineAndResets()
    {
        var filter = ResamplingFilter.Create(1, 4); // half length 40: output k needs input 4k+40
        var stream = new StreamingResampler(filter);
        Assert.Empty(stream.Process(Input.AsSpan(0, 40)));
        Assert.Single(stream.Process(Input.AsSpan(40, 1)));
        Assert.Equal(10, stream.PendingFlushLength); // ceil(41/4) = 11 outputs in total, 1 already out
        stream.Flush();
        Assert.Throws<InvalidOperationException>(() => stream.Process(Input.AsSpan(0, 1)));
        stream.Reset();
        var again = stream.Process(Input.AsSpan(0, 100));
        var oneShot = PolyphaseResampler.Resample(Input.AsSpan(0, 200), filter);
        Assert.Equal(oneShot.AsSpan(0, again.Length).ToArray(), again);
    }

    [Fact]
    public void IdentityRatioPassesSamplesThrough()
    {
        var filter = ResamplingFilter.Create(4096, 4096);
        Assert.True(filter.IsIdentity);
        var stream = new StreamingResampler(filter);
        Assert.Equal(Input.AsSpan(0, 10).ToArray(), stream.Process(Input.AsSpan(0, 10)));
        Assert.Empty(stream.Flush());
        Assert.Equal(Input.AsSpan(0, 10).ToArray(), PolyphaseResampler.Resample(Input.AsSpan(0, 10), 3, 3));
    }

    [Fact]
    public void ShortInputsMatchTheirOneShotLength()
    {
        var filter = ResamplingFilter.Create(1, 4);
        for (int n = 0; n < 12; n++)
        {
            var oneShot = PolyphaseResampler.Resample(Input.AsSpan(0, n), filter);
            Assert.Equal((n + 3) / 4, oneShot.Length);
            var stream = new StreamingResampler(filter);
            var streamed = stream.Process(Input.AsSpan(0, n)).Concat(stream.Flush()).ToArray();
            Assert.Equal(oneShot, streamed);
        }
    }

    [Fact]
    public void ParallelChannelsEqualSequential()
    {
        var filter = ResamplingFilter.Create(1, 4);
        var channels = Enumerable.Range(0, 5).Select(c => (ReadOnlyMemory<double>)Input.AsMemory(c * 1000, 20000)).ToArray();
        var parallel = PolyphaseResampler.ResampleChannels(channels, filter);
        for (int c = 0; c < channels.Length; c++)
            Assert.Equal(PolyphaseResampler.Resample(channels[c].Span, filter), parallel[c]);
    }
}

/// <summary>Frame-by-frame multi-channel streaming with mixed input rates equals per-channel one-shot resampling to 4096 Hz.</summary>
public class MultiChannelResamplerTests
{
    [Fact]
    public void MixedRateChannelsStreamedByFrameEqualOneShot()
    {
        var input = ReferenceFile.Dsp16384.Input;
        var rates = new[] { 16384.0, 256.0, 2048.0, 4096.0 };
        var data = rates.Select(r => input.AsSpan(0, (int)r * 4).ToArray()).ToArray(); // 4 s per channel
        var resampler = MultiChannelResampler.ForRates(rates.Select((r, i) => ($"X1:CH{i}", new GwReprocess.Data.SampleRate(r))).ToArray(), GwReprocess.Data.SampleRate.Processing);
        var streamed = rates.Select(_ => new List<double>()).ToArray();
        for (int second = 0; second < 4; second++)
        {
            var chunks = rates.Select((r, i) => (ReadOnlyMemory<double>)data[i].AsMemory(second * (int)r, (int)r)).ToArray();
            var outputs = resampler.Process(chunks);
            for (int i = 0; i < rates.Length; i++) streamed[i].AddRange(outputs[i]);
        }
        var tails = resampler.Flush();
        for (int i = 0; i < rates.Length; i++)
        {
            streamed[i].AddRange(tails[i]);
            var expected = PolyphaseResampler.Resample(data[i], ResamplingFilter.ForRates(new GwReprocess.Data.SampleRate(rates[i]), GwReprocess.Data.SampleRate.Processing));
            Assert.Equal(4 * 4096, expected.Length);
            Assert.Equal(expected, streamed[i].ToArray());
        }
    }
}

/// <summary>Large factors (long filters, many phases) keep streaming equal to one-shot and keep DC gain.</summary>
public class LargeFactorResamplingTests
{
    [Theory]
    [InlineData(1, 1000)]
    [InlineData(1000, 999)]
    public void StreamingEqualsOneShotAndDcIsKept(int up, int down)
    {
        var filter = ResamplingFilter.Create(up, down);
        var x = new double[30000];
        for (int i = 0; i < x.Length; i++) x[i] = 3.0 + Math.Sin(i * 1e-4);
        var oneShot = PolyphaseResampler.Resample(x, filter);
        var stream = new StreamingResampler(filter);
        var streamed = new List<double>();
        for (int i = 0; i < x.Length; i += 4999) streamed.AddRange(stream.Process(x.AsSpan(i, Math.Min(4999, x.Length - i))));
        streamed.AddRange(stream.Flush());
        Assert.Equal(oneShot, streamed.ToArray());
        int mid = oneShot.Length / 2;
        double t = (double)mid * down / up;
        Assert.Equal(3.0 + Math.Sin(t * 1e-4), oneShot[mid], 2);
    }
}
