using GwReprocess.Dsp;
using GwReprocess.Jobs;

namespace GwReprocess.Tests.Jobs;

public class UpdateBuilderTests
{
    [Fact]
    public void Updates_keep_channel_order_and_scaling_and_carry_leftovers()
    {
        // Three channels arriving in uneven chunks; update = 6 samples per channel.
        var b = new UpdateBuilder([new ChannelScaling(0, 1), new ChannelScaling(10, 2), new ChannelScaling(-1, 0.5)], 6);
        b.Append(0, Enumerable.Range(0, 10).Select(i => (double)i).ToArray());
        b.Append(1, Enumerable.Range(0, 4).Select(i => 10 + 2.0 * i).ToArray());
        Assert.Null(b.TryTake()); // channel 1 and 2 not ready
        b.Append(1, Enumerable.Range(4, 8).Select(i => 10 + 2.0 * i).ToArray());
        b.Append(2, Enumerable.Range(0, 7).Select(i => -1 + 0.5 * i).ToArray());
        using (var u = b.TryTake()!)
        {
            Assert.Equal((0L, 3, 6), (u.Index, u.Channels, u.Samples));
            // Each channel standardises to 0, 1, 2, ...: channel-major [1, C, N].
            Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5 }, u.Data.ToArray());
        }
        Assert.Equal((4, 6, 1), (b.Pending(0), b.Pending(1), b.Pending(2)));
        Assert.Null(b.TryTake());
        b.Append(0, [10, 11]);
        b.Append(2, Enumerable.Range(7, 5).Select(i => -1 + 0.5 * i).ToArray());
        using var second = b.TryTake()!;
        Assert.Equal(1, second.Index);
        Assert.Equal(new float[] { 6, 7, 8, 9, 10, 11 }, second.Data[..6].ToArray());
        Assert.Equal(new float[] { 6, 7, 8, 9, 10, 11 }, second.Data[12..].ToArray());
    }

    [Fact]
    public void Uneven_pieces_larger_than_the_fifo_give_every_sample_once_in_order()
    {
        // Pieces much larger than an update and of uneven sizes, channels at different paces: the FIFOs grow, wrap their head
        // back to the front and compact; every update must still hold the next n standardised samples of every channel.
        const int n = 64, channels = 3, total = 40 * n;
        var scaling = new[] { new ChannelScaling(1, 2), new ChannelScaling(-3, 0.25), new ChannelScaling(0, 1) };
        var b = new UpdateBuilder(scaling, n);
        var rng = new Random(5);
        var sent = new int[channels];
        long taken = 0;
        double Sample(int c, int i) => Math.Sin(0.01 * i + c) * 100 + c;
        while (taken < total / n)
        {
            int c = rng.Next(channels);
            int len = Math.Min(rng.Next(1, 9 * n), total - sent[c]);
            if (len > 0)
            {
                b.Append(c, Enumerable.Range(sent[c], len).Select(i => Sample(c, i)).ToArray());
                sent[c] += len;
            }
            while (b.TryTake() is { } u)
            {
                using (u)
                {
                    Assert.Equal(taken, u.Index);
                    for (int ch = 0; ch < channels; ch++)
                        for (int k = 0; k < n; k++)
                        {
                            var s = scaling[ch];
                            float expected = (float)((Sample(ch, (int)(taken * n + k)) - s.Mean) * (1.0 / s.Scale));
                            Assert.Equal(expected, u.Data[ch * n + k]);
                        }
                }
                taken++;
            }
        }
        for (int c = 0; c < channels; c++) Assert.Equal(0, b.Pending(c));
    }

    [Fact]
    public void A_zero_scale_is_refused()
    {
        var e = Assert.Throws<BadInputException>(() => new UpdateBuilder([new ChannelScaling(0, 0)], 8));
        Assert.Contains("scale", e.Message);
    }

    [Fact]
    public void Fit_gives_mean_and_population_std()
    {
        var s = ChannelScaling.Fit([1.0, 2, 3, 4]);
        Assert.Equal(2.5, s.Mean, 12);
        Assert.Equal(Math.Sqrt(1.25), s.Scale, 12);
    }

    [Fact]
    public void Placer_releases_in_order_and_drops_duplicates()
    {
        var p = new ResponsePlacer<string>(maxOutOfOrder: 4, first: 10);
        Assert.True(p.Add(12, "c"));
        Assert.True(p.Add(11, "b"));
        Assert.False(p.TryTake(out _));
        Assert.True(p.Add(10, "a"));
        Assert.False(p.Add(11, "b again"));
        var got = new List<string>();
        while (p.TryTake(out var r)) got.Add(r);
        Assert.Equal(["a", "b", "c"], got);
        Assert.False(p.Add(10, "late duplicate"));
        Assert.Equal(13, p.Next);
        Assert.Throws<InvalidOperationException>(() => p.Add(17, "too far ahead"));
    }
}
