using GwReprocess.Tests.Storage;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// The CI-sized soak (the benchmark <c>soak</c> runs the long one): many client streams on one server with fewer snapshotter
/// slots than streams, and the same under faults (the server killed twice, the output bucket gone for a while).
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    private void Report(SoakResult r)
    {
        output.WriteLine($"{r.Options.Streams} streams, {r.Options.Slots} slots: {r.Jobs.Count} jobs, {r.Requests} requests sent, {r.Answered} answered, " +
                         $"server successes {r.ServerRequestSuccesses}, failures {r.ServerRequestFailures}, {r.WallSeconds:F1} s; " +
                         $"{r.ServerKills} server kills, {r.BucketOutages} bucket outages ({r.BucketConnectionsBroken} connections reset or turned away)");
        output.WriteLine($"first round trips (slot wait + one execution), s: {string.Join(" ", r.FirstJobs.OrderBy(j => j.FirstAnswer).Select(j => j.FirstRoundTrip.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}");
        foreach (var j in r.Jobs.Where(j => j.Reconnects + j.Reruns > 0))
            output.WriteLine($"{j.Name}: {j.Reconnects} reconnects ({j.ResumedFromLaterFrame} from a later frame), {j.Reruns} reruns");
    }

    [Fact]
    public async Task Thirty_two_streams_on_eight_slots_wait_for_a_slot_without_errors_and_each_equals_its_lone_run()
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var soak = await SoakRun.CreateAsync(new SoakOptions(Streams: 32, Slots: 8), output.WriteLine, cts.Token);
        var r = await soak.RunAsync(cts.Token);
        Report(r);

        Assert.Empty(r.Failures);
        Assert.Equal(32, r.Jobs.Count);
        Assert.All(r.Jobs, j => Assert.Null(j.Mismatch));
        // Nothing failed anywhere: no request, no stream, no job.
        Assert.Equal(0, r.ServerRequestFailures);
        Assert.All(r.Jobs, j => Assert.Equal((0, 0), (j.Reconnects, j.Reruns)));
        Assert.Equal(r.Requests, r.Answered);
        Assert.True(r.Requests > 32 * 100, $"{r.Requests} requests");
        // All 32 sequences were open at once on 8 slots, so at least 24 had to wait, and each of those got its first
        // answer only after another job had sent its END: it waited for a slot, with no error, rather than being refused.
        Assert.True(r.AllStartedBeforeAnyEnded, "a job ended before every stream had started: the run did not hold 32 sequences at once");
        Assert.True(r.WaitedForFreedSlot >= 32 - 8, $"{r.WaitedForFreedSlot} of 32 first answers came after a freed slot; expected at least 24");
    }

    [SkippableFact]
    public async Task Server_killed_twice_and_bucket_gone_under_load_leave_every_job_identical_to_its_lone_run()
    {
        using var cts = new CancellationTokenSource(Limit);
        SoakRun soak;
        try
        {
            soak = await SoakRun.CreateAsync(new SoakOptions(Streams: 16, Slots: 4, ServerKills: 2, BucketOutage: true), output.WriteLine, cts.Token);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("moto", StringComparison.OrdinalIgnoreCase) && !S3ServerFixture.UnderCi)
        {
            Skip.If(true, $"no S3 server: {e.Message}");
            return;
        }
        await using var owned = soak;
        var r = await soak.RunAsync(cts.Token);
        Report(r);

        Assert.Equal((2, 1), (r.ServerKills, r.BucketOutages));
        // The streams met the outage: their connections to the bucket were reset or turned away.
        Assert.True(r.BucketConnectionsBroken > 0, "no client tried the bucket while it was away");
        // Every job completed with the lone run's cleaned frames and scores, none missing, none extra, none different.
        Assert.Empty(r.Failures);
        Assert.Equal(16, r.Jobs.Count);
        Assert.All(r.Jobs, j => Assert.Null(j.Mismatch));
        // The kills broke streams, and the clients reconnected (jittered backoff) instead of failing.
        Assert.True(r.Jobs.Sum(j => j.Reconnects) >= 2, $"{r.Jobs.Sum(j => j.Reconnects)} reconnects");
        Assert.Equal(0, r.ServerRequestFailures);
    }
}
