using GwReprocess.Inference;
using GwReprocess.Jobs;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

public class ReconnectScheduleTests
{
    private static ClientJobSettings Settings(int retries, TimeSpan backoff) =>
        new(new JobSpec("job-0", new Segment(1000, 1064), new Segment(992, 1072), 0, 1), [], new LocalBucket(Path.GetTempPath()), "", "T", "_C",
            new InferenceEndpoint("http://127.0.0.1:1"), "0", "m", CleaningSettings.Default, null, Retries: retries)
        { Backoff = backoff };

    private sealed class Silent : IClientJobReporter
    {
        public void Info(string line) { }
        public void FrameCommitted(Segment frame, int index, int total, double dataSecondsPerSecond) { }
    }

    [Fact]
    public void Waits_are_jittered_below_the_doubling_cap_and_run_out_after_the_configured_retries()
    {
        // Many jobs lose one server at once: their waits must spread over [0, cap), not all equal the cap.
        var firsts = new List<double>();
        for (int job = 0; job < 50; job++)
        {
            var schedule = new ReconnectSchedule(Settings(4, TimeSpan.FromSeconds(1)), new Silent(), new Random(job));
            for (int n = 1; n <= 4; n++)
            {
                Assert.False(schedule.Exhausted);
                double wait = schedule.Next().TotalSeconds;
                Assert.Equal(n, schedule.Retries);
                Assert.InRange(wait, 0, Math.Min(30, Math.Pow(2, n - 1)));
                if (n == 1) firsts.Add(wait);
            }
            Assert.True(schedule.Exhausted);
            Assert.Throws<InvalidOperationException>(() => schedule.Next());
        }
        Assert.True(firsts.Max() - firsts.Min() > 0.5, $"first waits not spread: {firsts.Min():F3}..{firsts.Max():F3} s");
    }

    [Fact]
    public void Waits_never_exceed_thirty_seconds()
    {
        var schedule = new ReconnectSchedule(Settings(12, TimeSpan.FromSeconds(4)), new Silent(), new Random(7));
        while (!schedule.Exhausted) Assert.InRange(schedule.Next(), TimeSpan.Zero, ReconnectSchedule.MaxBackoff);
        Assert.Equal(12, schedule.Retries);
    }
}
