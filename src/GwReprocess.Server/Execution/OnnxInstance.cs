using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Server.Execution;

/// <summary>One instance of an ONNX model: its session, where the plan put it, and on a GPU its pinned IO binding.</summary>
internal sealed class OnnxInstance(InferenceSession session, InstancePlacement placement, CudaIoBinding? binding, string? bindingRefused) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public InstancePlacement Placement { get; } = placement;

    /// <summary>The IO binding, or null on the CPU, where the graph takes the request's buffers as they are.</summary>
    public CudaIoBinding? Binding { get; } = binding;

    /// <summary>For the startup log: model, version, instance, group and device.</summary>
    public string Describe(string model, long version) =>
        $"model '{model}' version {version} instance {Placement.Instance} (group '{Placement.Group}'): {Placement.Describe()}" +
        (!Placement.OnGpu ? "" : Binding is not null ? ", pinned IO binding" : $", no IO binding ({bindingRefused})");

    public void Dispose()
    {
        Binding?.Dispose();
        Session.Dispose();
    }
}
