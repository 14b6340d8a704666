using Inference;
using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Server.Execution;

/// <summary>
/// An instance's IO binding on a CUDA session: inputs are copied once into pinned host buffers and outputs come back
/// into pinned host buffers, so each request makes one host-to-device and one device-to-host copy, both DMA from
/// page-locked memory, instead of ONNX Runtime staging pageable buffers itself.
/// </summary>
/// <remarks>Not verified on a GPU in this repository's CI (it has none): every failure to set it up leaves the instance on the plain path.</remarks>
internal sealed class CudaIoBinding : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtMemoryInfo _pinned;
    private readonly OrtAllocator _allocator;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();

    private CudaIoBinding(InferenceSession session, OrtMemoryInfo pinned, OrtAllocator allocator)
    {
        _session = session;
        _pinned = pinned;
        _allocator = allocator;
        _binding = session.CreateIoBinding();
    }

    /// <summary>The binding for a session on CUDA device <paramref name="deviceId"/>, or null (with why) when the session registers no pinned allocator ONNX Runtime will hand out.</summary>
    public static CudaIoBinding? TryCreate(InferenceSession session, int deviceId, out string? why)
    {
        why = null;
        // The CUDA provider registers its pinned-host allocator under the session's device id; releases before 1.2x used id 0.
        foreach (int id in deviceId == 0 ? [0] : new[] { deviceId, 0 })
        {
            var pinned = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, id, OrtMemType.CpuOutput);
            try
            {
                return new CudaIoBinding(session, pinned, new OrtAllocator(session, pinned));
            }
            catch (OnnxRuntimeException e)
            {
                pinned.Dispose();
                why = e.Message;
            }
        }
        return null;
    }

    /// <summary>True when every tensor can be bound (strings stay on the plain path: ONNX Runtime keeps them as its own objects).</summary>
    public static bool CanBind(IReadOnlyDictionary<string, TensorData> inputs)
    {
        foreach (var t in inputs.Values)
            if (t.Type == DataType.TypeString) return false;
        return true;
    }

    /// <summary>One execution through the binding; outputs are copied out of the pinned buffers into arrays the response owns.</summary>
    public Dictionary<string, TensorData> Run(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var (name, t) in inputs)
            {
                var value = OrtValue.CreateAllocatedTensorValue(_allocator, TensorTypes.ToOrt(t.Type), t.Shape);
                values.Add(value);
                t.Bytes.Span.CopyTo(value.GetTensorMutableRawData());
                _binding.BindInput(name, value);
            }
            foreach (var name in outputNames) _binding.BindOutputToDevice(name, _pinned);
            _session.RunWithBinding(_runOptions, _binding);
            _binding.SynchronizeBoundOutputs();
            var outputs = new Dictionary<string, TensorData>(outputNames.Count, StringComparer.Ordinal);
            using var results = _binding.GetOutputValues();
            int k = 0;
            foreach (var r in results)
            {
                var info = r.GetTensorTypeAndShape();
                outputs[outputNames[k++]] = new TensorData(TensorTypes.FromOrt(info.ElementDataType), info.Shape, r.GetTensorMutableRawData().ToArray());
            }
            return outputs;
        }
        finally
        {
            _binding.ClearBoundInputs();
            _binding.ClearBoundOutputs();
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose()
    {
        _binding.Dispose();
        _allocator.Dispose();
        _pinned.Dispose();
        _runOptions.Dispose();
    }
}
