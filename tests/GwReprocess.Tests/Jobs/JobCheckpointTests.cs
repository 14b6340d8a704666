using GwReprocess.Jobs;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

public sealed class JobCheckpointTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-ckpt-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task A_restarted_job_resumes_at_the_first_missing_frame_and_dag_sees_it_done()
    {
        var (bucket, prefix) = BucketFactory.Open(Path.Combine(_dir.FullName, "out"));
        using var _ = bucket;
        var frames = Enumerable.Range(0, 4).Select(i => Segment.FromStart(GpsTime.FromSeconds(1238166018 + 1024L * i), GpsDuration.FromSeconds(1024))).ToList();
        var first = new JobCheckpoint(bucket, prefix, "clean_H1L1_1238166018_4096");
        Assert.Equal(0, await first.FirstMissingAsync(frames));
        await first.MarkCommittedAsync(frames[0]);
        await first.MarkCommittedAsync(frames[1]);
        // A second attempt of the same job (a DAG retry) sees the two committed frames.
        var retry = new JobCheckpoint(bucket, prefix, "clean_H1L1_1238166018_4096");
        Assert.Equal(2, await retry.FirstMissingAsync(frames));
        Assert.Equal(new SegmentList([frames[0], frames[1]]), await retry.CommittedAsync());
        // Committing twice (a retry racing a slow earlier attempt) is harmless.
        await retry.MarkCommittedAsync(frames[1]);
        await retry.MarkCommittedAsync(frames[2]);
        await retry.MarkCommittedAsync(frames[3]);
        Assert.Null(await retry.FirstMissingAsync(frames));
        Assert.False(await retry.IsDoneAsync());
        await retry.MarkDoneAsync();
        Assert.True(await first.IsDoneAsync());
        Assert.True(File.Exists(Path.Combine(_dir.FullName, "out", "done", "clean_H1L1_1238166018_4096")));
        // Another job's progress is its own.
        Assert.Equal(0, await new JobCheckpoint(bucket, prefix, "clean_H1L1_1238170114_4096").FirstMissingAsync(frames));
    }
}
