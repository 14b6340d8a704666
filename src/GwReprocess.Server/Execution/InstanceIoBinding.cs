using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Server.Execution;

/// <summary>
/// An instance's ONNX Runtime IO binding: each input is copied once into a staging buffer of the instance's host
/// allocator and each output comes back once into a buffer of it, so a request crosses to the device and back one
/// copy per tensor each way; sequence state bound as device values does not cross at all.
/// </summary>
/// <remarks>
/// On CUDA the host allocator is the provider's pinned one (page-locked, so ONNX Runtime's copy to and from the GPU
/// is a DMA) and the device allocator is the GPU's; on the CPU both are the session's CPU allocator, which lets the
/// very same code run, and be tested, without a GPU. The CUDA side has not run on a GPU in this repository (none
/// was available): setting it up may fail, and then the instance stays on the plain path and the log says why.
/// Only the instance's own thread runs it, so nothing here is locked; the counters are read by others.
/// </remarks>
internal sealed unsafe class InstanceIoBinding : IDisposable
{
    /// <summary>A growable host buffer for one input; tensors of any shape that fits are views over it.</summary>
    private sealed class Staging(OrtValue buffer, long capacity)
    {
        public readonly OrtValue Buffer = buffer;
        public readonly long Capacity = capacity;
        public readonly IntPtr Pointer = (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer.GetTensorMutableRawData()));
    }

    private readonly InferenceSession _session;
    private readonly OrtMemoryInfo _hostInfo;
    private readonly OrtAllocator _host;
    private readonly OrtMemoryInfo _deviceInfo;
    private readonly OrtAllocator _device;
    private readonly bool _ownsInfos;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<string, Staging> _staging = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stringOutputs = new(StringComparer.Ordinal);
    private readonly int _deviceId;
    private long _copiesIn, _copiesOut, _stagingAllocations, _deviceTensors;

    private InstanceIoBinding(InferenceSession session, OrtMemoryInfo hostInfo, OrtAllocator host, OrtMemoryInfo deviceInfo, OrtAllocator device, bool ownsInfos, int deviceId)
    {
        _session = session;
        _hostInfo = hostInfo;
        _host = host;
        _deviceInfo = deviceInfo;
        _device = device;
        _ownsInfos = ownsInfos;
        _deviceId = deviceId;
        _binding = session.CreateIoBinding();
        foreach (var (name, meta) in session.OutputMetadata)
            if (!meta.IsTensor || meta.ElementDataType == TensorElementType.String) _stringOutputs.Add(name);
    }

    /// <summary>True on a CUDA session (pinned host buffers, state in GPU memory); false on the CPU.</summary>
    public bool OnGpu => _deviceId != InstancePlacement.Cpu;

    /// <summary>Host-to-device copies made: one per bound input tensor (sequence state kept on the device makes none).</summary>
    public long CopiesIn => Interlocked.Read(ref _copiesIn);

    /// <summary>Device-to-host copies made: one per output returned to the host (state kept on the device makes none).</summary>
    public long CopiesOut => Interlocked.Read(ref _copiesOut);

    /// <summary>Staging buffers allocated; a request whose inputs fit the buffers already there allocates none.</summary>
    public long StagingAllocations => Interlocked.Read(ref _stagingAllocations);

    /// <summary>Device tensors allocated for sequence state and not yet freed (two per state tensor of each live sequence on this instance).</summary>
    public long DeviceTensorsLive => Interlocked.Read(ref _deviceTensors);

    /// <summary>For the startup log.</summary>
    public string Describe() => OnGpu ? "pinned IO binding" : "IO binding (CPU memory)";

    /// <summary>The binding for a session on CUDA device <paramref name="deviceId"/>, or null (with why) when the session hands out no pinned or device allocator.</summary>
    public static InstanceIoBinding? TryCreateCuda(InferenceSession session, int deviceId, out string? why)
    {
        why = null;
        // The CUDA provider registers its pinned-host allocator under the session's device id; releases before 1.2x used id 0.
        foreach (int id in deviceId == 0 ? [0] : new[] { deviceId, 0 })
        {
            var pinned = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, id, OrtMemType.CpuOutput);
            var gpu = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
            OrtAllocator? host = null;
            try
            {
                host = new OrtAllocator(session, pinned);
                return new InstanceIoBinding(session, pinned, host, gpu, new OrtAllocator(session, gpu), ownsInfos: true, deviceId);
            }
            catch (OnnxRuntimeException e)
            {
                host?.Dispose();
                pinned.Dispose();
                gpu.Dispose();
                why = e.Message;
            }
        }
        return null;
    }

    /// <summary>The binding on a CPU session: the session's CPU allocator stands in for both the pinned and the device allocator.</summary>
    public static InstanceIoBinding CreateCpu(InferenceSession session)
    {
        var cpu = OrtMemoryInfo.DefaultInstance;
        OrtAllocator allocator;
        try
        {
            allocator = new OrtAllocator(session, cpu);
        }
        catch (OnnxRuntimeException)
        {
            // A session without a CPU allocator of its own (none seen) allocates through the environment's.
            allocator = OrtAllocator.DefaultInstance;
        }
        return new InstanceIoBinding(session, cpu, allocator, cpu, allocator, ownsInfos: false, InstancePlacement.Cpu);
    }

    /// <summary>True when every tensor can be bound (strings stay on the plain path: ONNX Runtime keeps them as its own objects).</summary>
    public bool CanBind(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        foreach (var t in inputs.Values)
            if (t.Type == DataType.TypeString) return false;
        foreach (var name in outputNames)
            if (_stringOutputs.Contains(name)) return false;
        return true;
    }

    /// <summary>A tensor in the device allocator's memory, owned by the caller (sequence state).</summary>
    public OrtValue AllocateDevice(DataType type, long[] shape)
    {
        var value = OrtValue.CreateAllocatedTensorValue(_device, TensorTypes.ToOrt(type), shape);
        Interlocked.Increment(ref _deviceTensors);
        return value;
    }

    /// <summary>Frees a tensor <see cref="AllocateDevice"/> made (any thread: ONNX Runtime's allocators are thread-safe).</summary>
    public void FreeDevice(OrtValue value)
    {
        value.Dispose();
        Interlocked.Decrement(ref _deviceTensors);
    }

    /// <summary>A device tensor's contents brought to the host by an explicit copy (for tests and debugging, never on a request's path).</summary>
    public TensorData CopyToHost(OrtValue device, DataType type, long[] shape) => new(type, shape, DeviceTensorReader.Read(device, _deviceId));

    /// <summary>
    /// One execution through the binding. Inputs are staged on the host and copied across; a state input not among
    /// them is bound from <paramref name="state"/>'s device buffer, and state outputs are written into its other one.
    /// </summary>
    public OrtRunResult Run(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, DeviceSequenceState? state)
    {
        long start = Stopwatch.GetTimestamp();
        var views = new List<OrtValue>(inputs.Count);
        var toHost = new bool[outputNames.Count];
        try
        {
            foreach (var (name, t) in inputs)
            {
                var view = Stage(name, t);
                views.Add(view);
                _binding.BindInput(name, view);
            }
            if (state is not null)
                for (int s = 0; s < state.Count; s++)
                    if (!inputs.ContainsKey(state.InputName(s))) _binding.BindInput(state.InputName(s), state.Current(s));
            for (int k = 0; k < outputNames.Count; k++)
            {
                int s = state?.OutputIndex(outputNames[k]) ?? -1;
                if (s >= 0)
                {
                    _binding.BindOutput(outputNames[k], state!.Next(s));
                    continue;
                }
                toHost[k] = true;
                _binding.BindOutputToDevice(outputNames[k], _hostInfo);
            }
            long afterInput = Stopwatch.GetTimestamp();
            _session.RunWithBinding(_runOptions, _binding);
            _binding.SynchronizeBoundOutputs();
            long afterInfer = Stopwatch.GetTimestamp();
            state?.Swap();
            var outputs = new Dictionary<string, TensorData>(outputNames.Count, StringComparer.Ordinal);
            using var results = _binding.GetOutputValues();
            int i = 0;
            foreach (var r in results)
            {
                int k = i++;
                if (!toHost[k]) continue;
                var info = r.GetTensorTypeAndShape();
                outputs[outputNames[k]] = new TensorData(TensorTypes.FromOrt(info.ElementDataType), info.Shape, r.GetTensorMutableRawData().ToArray());
                Interlocked.Increment(ref _copiesOut);
            }
            return new OrtRunResult(outputs, start, afterInput, afterInfer, Stopwatch.GetTimestamp());
        }
        finally
        {
            _binding.ClearBoundInputs();
            _binding.ClearBoundOutputs();
            foreach (var v in views) v.Dispose();
        }
    }

    /// <summary>The input copied into its staging buffer (grown when it does not fit), as a tensor view of the request's shape.</summary>
    private OrtValue Stage(string name, TensorData t)
    {
        long bytes = t.Bytes.Length;
        if (!_staging.TryGetValue(name, out var staging) || staging.Capacity < bytes)
        {
            staging?.Buffer.Dispose();
            // At least 8 bytes: an empty tensor still needs an address.
            long capacity = Math.Max(8, bytes);
            staging = new Staging(OrtValue.CreateAllocatedTensorValue(_host, TensorElementType.UInt8, [capacity]), capacity);
            _staging[name] = staging;
            Interlocked.Increment(ref _stagingAllocations);
        }
        t.Bytes.Span.CopyTo(new Span<byte>((void*)staging.Pointer, checked((int)bytes)));
        Interlocked.Increment(ref _copiesIn);
        return OrtValue.CreateTensorValueWithData(_hostInfo, TensorTypes.ToOrt(t.Type), t.Shape, staging.Pointer, bytes);
    }

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var s in _staging.Values) s.Buffer.Dispose();
        _staging.Clear();
        if (!ReferenceEquals(_host, OrtAllocator.DefaultInstance)) _host.Dispose();
        if (!ReferenceEquals(_device, _host)) _device.Dispose();
        if (_ownsInfos)
        {
            _hostInfo.Dispose();
            _deviceInfo.Dispose();
        }
        _runOptions.Dispose();
    }
}
