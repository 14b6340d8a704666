using Google.Protobuf;
using GwReprocess.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using OnnxType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Server.Execution;

/// <summary>
/// Copies a tensor in an execution provider's memory to the host by running an Identity graph on that provider with the
/// input bound to the tensor and the output bound to host memory: ONNX Runtime then makes the device-to-host copy itself.
/// </summary>
/// <remarks>
/// For reading sequence state in tests and debugging only (it builds a session per call). <c>OrtEnv.CopyTensors</c>
/// would be the direct way, but it only knows the data transfers of plugin execution providers: with the CUDA provider
/// appended to the session options, and even from CPU to CPU, ONNX Runtime 1.31 answers "data transfer implementation
/// ... not found". This way the CPU provider runs the same code as the CUDA one.
/// </remarks>
internal static class DeviceTensorReader
{
    /// <summary>The bytes of <paramref name="device"/>, which lives in the memory of CUDA device <paramref name="cudaDevice"/> (or on the CPU when it is <see cref="InstancePlacement.Cpu"/>).</summary>
    public static byte[] Read(OrtValue device, int cudaDevice)
    {
        var info = device.GetTensorTypeAndShape();
        var shape = info.Shape;
        var type = (OnnxType)(int)info.ElementDataType; // ONNX Runtime's element types are ONNX's TensorProto types
        var g = new OnnxGraphBuilder("read_state");
        var dims = shape.Select(d => (OnnxDim)d).ToArray();
        g.Input("x", type, dims);
        g.Node("Identity", ["x"], "y");
        g.Output("y", type, dims);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (cudaDevice != InstancePlacement.Cpu) options.AppendExecutionProvider_CUDA(cudaDevice);
        using var session = new InferenceSession(g.Build("copy a device tensor to the host").ToByteArray(), options);
        using var binding = session.CreateIoBinding();
        using var host = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, info.ElementDataType, shape);
        using var run = new RunOptions();
        binding.BindInput("x", device);
        binding.BindOutput("y", host);
        session.RunWithBinding(run, binding);
        binding.SynchronizeBoundOutputs();
        return host.GetTensorMutableRawData().ToArray();
    }
}
