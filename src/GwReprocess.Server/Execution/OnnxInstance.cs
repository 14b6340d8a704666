using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Server.Execution;

/// <summary>One instance of an ONNX model: its session, where the plan put it, and its IO binding when it runs through one.</summary>
internal sealed class OnnxInstance(InferenceSession session, InstancePlacement placement, InstanceIoBinding? binding, string? bindingRefused) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public InstancePlacement Placement { get; } = placement;

    /// <summary>The IO binding: on a GPU unless it could not be set up or io_binding is off; on the CPU only with io_binding on.</summary>
    public InstanceIoBinding? Binding { get; } = binding;

    /// <summary>For the startup log: model, version, instance, group, device and how inputs and outputs travel.</summary>
    public string Describe(string model, long version) =>
        $"model '{model}' version {version} instance {Placement.Instance} (group '{Placement.Group}'): {Placement.Describe()}" +
        (Binding is not null ? ", " + Binding.Describe() : !Placement.OnGpu ? "" : $", no IO binding ({bindingRefused})");

    public void Dispose()
    {
        Binding?.Dispose();
        Session.Dispose();
    }
}
