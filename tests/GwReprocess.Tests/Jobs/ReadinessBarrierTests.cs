using GwReprocess.Jobs;
using GwReprocess.Storage;

namespace GwReprocess.Tests.Jobs;

public sealed class ReadinessBarrierTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-barrier-");

    public void Dispose() => _dir.Delete(true);

    private (IBucket Bucket, string Prefix) Rendezvous() => BucketFactory.Open(Path.Combine(_dir.FullName, "rendezvous"));

    [Fact]
    public async Task Eight_staggered_clients_start_within_a_second_of_each_other()
    {
        var (bucket, prefix) = Rendezvous();
        using var _ = bucket;
        var policy = new BarrierPolicy(BarrierMode.All, Expected: 8, Timeout: TimeSpan.FromSeconds(20), Lead: TimeSpan.FromMilliseconds(500));
        var tasks = Enumerable.Range(0, 8).Select(async i =>
        {
            await Task.Delay(200 * i); // staggered start-up over 1.4 s
            var result = await new ReadinessBarrier(bucket, prefix, $"clean_H1L1_{i}", policy).JoinAsync();
            return (Result: result, Started: DateTimeOffset.UtcNow);
        }).ToArray();
        var all = await Task.WhenAll(tasks);
        Assert.Single(all.Select(a => a.Result.StartTime).Distinct());
        Assert.All(all, a => Assert.Equal("all 8 clients ready", a.Result.Reason));
        var spread = all.Max(a => a.Started) - all.Min(a => a.Started);
        Assert.True(spread < TimeSpan.FromSeconds(1), $"clients started {spread.TotalMilliseconds:F0} ms apart");
        // The early clients waited for the late ones, and none started before the published time.
        Assert.True(all[0].Result.Waited > TimeSpan.FromSeconds(1));
        Assert.All(all, a => Assert.True(a.Started >= a.Result.StartTime - TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public async Task With_one_client_missing_the_quorum_policy_goes_after_the_timeout_and_says_so()
    {
        var (bucket, prefix) = Rendezvous();
        using var _ = bucket;
        var policy = new BarrierPolicy(BarrierMode.Quorum, Expected: 8, Timeout: TimeSpan.FromSeconds(1.5), Lead: TimeSpan.FromMilliseconds(200), QuorumFraction: 0.75);
        var results = await Task.WhenAll(Enumerable.Range(0, 7).Select(i => new ReadinessBarrier(bucket, prefix, $"job{i}", policy).JoinAsync()));
        Assert.All(results, r =>
        {
            Assert.True(r.Incomplete);
            Assert.Equal((7, 8), (r.Ready, r.Expected));
            Assert.StartsWith("quorum: 7 of 8 clients ready after the 1.5 s timeout (quorum 6)", r.Reason);
            Assert.True(r.Waited >= TimeSpan.FromSeconds(1.5));
        });
        // The eighth client, arriving late, takes the same start time instead of waiting again.
        var late = await new ReadinessBarrier(bucket, prefix, "job7", policy).JoinAsync();
        Assert.Equal(results[0].StartTime, late.StartTime);
    }

    [Fact]
    public async Task The_all_policy_fails_on_timeout_naming_the_count()
    {
        var (bucket, prefix) = Rendezvous();
        using var _ = bucket;
        var policy = new BarrierPolicy(BarrierMode.All, 3, TimeSpan.FromMilliseconds(400), TimeSpan.Zero);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => new ReadinessBarrier(bucket, prefix, "only", policy).JoinAsync());
        Assert.Contains("only 1 of 3 clients ready after 0.4 s (policy: all)", e.Message);
    }
}
