using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Metrics;
using GwReprocess.Server.Repository;
using GwReprocess.Server.Scheduling;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>The pieces of Triton's metrics that need no server: failure reasons as Triton's core assigns them, host CPU from /proc/stat.</summary>
public sealed class MetricsTests
{
    private sealed class PlainVersion() : ModelVersion("plain", 1, new ModelConfig { Name = "plain" })
    {
        public override Task<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        protected override void DisposeResources() { }
    }

    public static TheoryData<Exception, FailureReason> Reasons => new()
    {
        { InferenceException.Rejection("Request timeout expired"), FailureReason.Rejected },
        { new TaskCanceledException(), FailureReason.Canceled },
        { new OperationCanceledException(), FailureReason.Canceled },
        { InferenceException.Backend("ONNX Runtime failed"), FailureReason.Backend },
        { InferenceException.Invalid("must specify the START flag"), FailureReason.Other },
        { InferenceException.Unavailable("model is unloading"), FailureReason.Other },
        { new InferenceException(StatusCode.Internal, "dynamic batcher failed"), FailureReason.Other },
    };

    [Theory]
    [MemberData(nameof(Reasons))]
    public void FailureReasonsFollowTritonsCore(Exception e, FailureReason expected)
    {
        Assert.Equal(expected, ModelManager.FailureReasonOf(new PlainVersion(), e));
        // Triton's ensemble scheduler does not carry the step's reason up: its own failure is always OTHER.
        var ensemble = new EnsembleModelVersion("ens", 1, new ModelConfig { Name = "ens" }, (_, _) => throw new NotSupportedException());
        Assert.Equal(FailureReason.Other, ModelManager.FailureReasonOf(ensemble, e));
    }

    [Fact]
    public void FailuresAddUpOverReasons()
    {
        var s = new ModelVersionStatistics("m", 1);
        long t = System.Diagnostics.Stopwatch.GetTimestamp();
        s.RecordFailure(t, FailureReason.Canceled);
        s.RecordFailure(t, FailureReason.Canceled);
        s.RecordFailure(t, FailureReason.Rejected);
        Assert.Equal((3L, 2L, 1L, 0L, 0L), (s.Failure, s.Failures(FailureReason.Canceled), s.Rejected, s.Failures(FailureReason.Backend), s.Failures(FailureReason.Other)));
        Assert.Equal(3ul, s.ToProto().InferenceStats.Fail.Count);
    }

    [Fact]
    public void HostCpuTicksAreBusyAndTotalAsTritonReadsThem()
    {
        // user nice system idle iowait irq softirq steal guest guest_nice (a real line; guest is already inside user).
        var (busy, total) = CpuTimes.Parse("cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0");
        Assert.Equal(10132153L + 290696 + 3084719 + 46828483 + 16683 + 0 + 25195 + 0, total);
        Assert.Equal(total - 46828483 - 16683, busy);
        Assert.Equal((0L, 0L), CpuTimes.Parse("cpu0 1 2 3 4 5 6 7 8"));
        Assert.Equal((0L, 0L), CpuTimes.Parse("cpu 1 2 x 4 5 6 7 8"));
        var host = CpuTimes.Read();
        if (File.Exists("/proc/stat")) Assert.True(host.Total > 0 && host.Busy > 0 && host.Busy < host.Total);
    }
}
