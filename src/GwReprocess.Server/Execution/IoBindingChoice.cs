using Inference;

namespace GwReprocess.Server.Execution;

/// <summary>The model-config parameter <c>io_binding</c>: whether instances run through an ONNX Runtime IO binding.</summary>
internal enum IoBindingMode
{
    /// <summary>GPU instances do, CPU instances do not (the default).</summary>
    Auto,
    /// <summary>Every instance does: on the CPU the CPU allocator stands in for the pinned one (tests, benchmarks).</summary>
    On,
    /// <summary>No instance does, GPU ones included: ONNX Runtime stages inputs and outputs itself.</summary>
    Off,
}

/// <summary>How an ONNX model's instances move tensors, from its config's <c>io_binding</c> and <c>sequence_state</c> parameters.</summary>
/// <param name="Mode">Which instances run through an IO binding.</param>
/// <param name="DeviceState">False when <c>sequence_state</c> is <c>host</c>: sequence state then goes to and from the host with each request even where the instances are bound.</param>
internal sealed record IoBindingChoice(IoBindingMode Mode, bool DeviceState)
{
    public const string IoBindingParameter = "io_binding";
    public const string SequenceStateParameter = "sequence_state";

    /// <summary>The choice a config makes; a value other than the documented ones fails the load in one line naming the model and key.</summary>
    public static IoBindingChoice From(string model, ModelConfig config)
    {
        string Value(string key, string fallback) =>
            config.Parameters.TryGetValue(key, out var p) ? p.StringValue.Trim().ToLowerInvariant() : fallback;
        var mode = Value(IoBindingParameter, "auto") switch
        {
            "auto" => IoBindingMode.Auto,
            "on" or "true" => IoBindingMode.On,
            "off" or "false" => IoBindingMode.Off,
            var v => throw InferenceException.Invalid($"model '{model}': parameter '{IoBindingParameter}' is '{v}', expected auto, on or off"),
        };
        bool device = Value(SequenceStateParameter, "auto") switch
        {
            "auto" or "device" => true,
            "host" => false,
            var v => throw InferenceException.Invalid($"model '{model}': parameter '{SequenceStateParameter}' is '{v}', expected auto or host"),
        };
        return new IoBindingChoice(mode, device);
    }

    /// <summary>Whether an instance placed as <paramref name="placement"/> gets a binding.</summary>
    public bool Binds(InstancePlacement placement) => Mode == IoBindingMode.On || (Mode == IoBindingMode.Auto && placement.OnGpu);
}
