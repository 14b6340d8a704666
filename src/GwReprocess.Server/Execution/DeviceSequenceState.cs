using Inference;
using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Server.Execution;

/// <summary>The shape of one implicit state tensor as a sequence slot holds it: graph input and output names, type, full shape.</summary>
internal sealed record StateSpec(string InputName, string OutputName, DataType Type, long[] Shape);

/// <summary>
/// One sequence slot's implicit state kept in its instance's device memory: two buffers per state, the current one
/// bound as the state input and the other as the state output, swapped after each execution, so between requests of
/// a sequence the state never crosses to the host.
/// </summary>
/// <remarks>
/// The slot is tied to one instance (its buffers are that instance's device memory). The buffers are allocated on the
/// instance's thread at the slot's first execution; START feeds the initial state from the host as an ordinary input
/// (one copy) and its output lands in the device buffer. Executions of one slot never overlap (the sequence batcher's
/// gate), and the batcher disposes the state only when no execution can be using it.
/// </remarks>
internal sealed class DeviceSequenceState(int instance, IReadOnlyList<StateSpec> specs) : IDisposable
{
    private OrtValue[]? _current, _next;
    private InstanceIoBinding? _binding;
    private int _disposed;

    /// <summary>The instance whose device memory holds the state; every execution of the slot runs there.</summary>
    public int Instance { get; } = instance;

    public int Count => specs.Count;

    /// <summary>False until an execution has written the state (START then feeds the initial state from the host).</summary>
    public bool Initialized { get; private set; }

    public string InputName(int s) => specs[s].InputName;

    /// <summary>The state index whose output is <paramref name="name"/>, or -1.</summary>
    public int OutputIndex(string name)
    {
        for (int s = 0; s < specs.Count; s++)
            if (specs[s].OutputName == name) return s;
        return -1;
    }

    /// <summary>Allocates the buffers with the instance's device allocator on first use; no-op after that.</summary>
    public void EnsureAllocated(InstanceIoBinding binding)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_current is not null) return;
        var current = new OrtValue[specs.Count];
        var next = new OrtValue[specs.Count];
        try
        {
            for (int s = 0; s < specs.Count; s++)
            {
                current[s] = binding.AllocateDevice(specs[s].Type, specs[s].Shape);
                next[s] = binding.AllocateDevice(specs[s].Type, specs[s].Shape);
            }
        }
        catch
        {
            foreach (var v in current) if (v is not null) binding.FreeDevice(v);
            foreach (var v in next) if (v is not null) binding.FreeDevice(v);
            throw;
        }
        _binding = binding;
        _current = current;
        _next = next;
    }

    /// <summary>The buffer the next execution reads the state from.</summary>
    public OrtValue Current(int s) => _current![s];

    /// <summary>The buffer the next execution writes the state to.</summary>
    public OrtValue Next(int s) => _next![s];

    /// <summary>After an execution: what it wrote becomes what the next one reads.</summary>
    public void Swap()
    {
        (_current, _next) = (_next, _current);
        Initialized = true;
    }

    /// <summary>The state as the next execution will read it, copied to the host (tests and debugging); null before the first execution.</summary>
    public TensorData[]? CopyToHost()
    {
        if (!Initialized || _current is null || _binding is null) return null;
        var states = new TensorData[specs.Count];
        for (int s = 0; s < specs.Count; s++) states[s] = _binding.CopyToHost(_current[s], specs[s].Type, specs[s].Shape);
        return states;
    }

    /// <summary>Frees the device buffers (END, idle reaping, unload); safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_binding is null) return;
        foreach (var v in _current!) _binding.FreeDevice(v);
        foreach (var v in _next!) _binding.FreeDevice(v);
        _current = _next = null;
    }
}
