using GwReprocess.Analysis;
using GwReprocess.Dsp;

namespace GwReprocess.Tests.Analysis;

/// <summary>The report's client/server cross-check counts windows on both sides, so the jobs' padding (streamed and scored, not counted as data) is no disagreement.</summary>
public sealed class ThroughputCheckTests
{
    // GW150914's run: one job of 10 s with 11 s of padding each side, 1 s of wall time, r = 4 Hz, B = 8: 15 requests of 8 windows.
    private static RunSummary Gw150914(double? clientResponses) =>
        new("gw150914", 1, 0, 1, DataSeconds: 10, WallSeconds: 0.9608, DataSecondsPerSecond: 10 / 0.9608, new Quartiles(10, 10, 10), 1,
            ServerDataSecondsPerSecond: 120 / 0.9608 / 4, [], null, null)
        {
            ServerInferences = 120,
            ClientResponses = clientResponses,
            ClientInferences = clientResponses * 8,
            InferenceRate = 4,
        };

    [Fact]
    public void Padding_scored_by_the_servers_is_not_a_disagreement_when_the_clients_had_as_many_windows_answered()
    {
        var s = Gw150914(15);
        Assert.Equal(0, s.Disagreement!.Value, 12);
        Assert.True(s.AgreesWithinFivePercent);
        Assert.Equal("gw150914: data seconds / wall time from the synchronized start = 10 s / 1.0 s = 10.41 s'/s; inferences / Δt / r = 120 / 1.0 s / 4 Hz = 31.22 s'/s; "
            + "the servers scored 120 windows, the clients had 120 answered (15 responses × B = 8; both count the jobs' padding, the data seconds do not); the window counts agree within 5 % (difference 0.0 %).",
            ReportWriter.ThroughputCheck(s));
    }

    [Fact]
    public void Windows_the_clients_never_had_answered_are_a_disagreement()
    {
        var s = Gw150914(12);
        Assert.Equal(0.25, s.Disagreement!.Value, 12);
        Assert.False(s.AgreesWithinFivePercent);
        Assert.Contains("the clients had 96 answered (12 responses × B = 8; both count the jobs' padding, the data seconds do not); the window counts do NOT agree within 5 % (difference 25.0 %)", ReportWriter.ThroughputCheck(s));
    }

    [Fact]
    public void Without_client_counts_the_throughputs_are_compared()
    {
        var s = Gw150914(null);
        Assert.Equal(2, s.Disagreement!.Value, 9);
        Assert.DoesNotContain("answered", ReportWriter.ThroughputCheck(s));
        Assert.Contains("they do NOT agree within 5 % (difference 200.0 %)", ReportWriter.ThroughputCheck(s));
    }
}
