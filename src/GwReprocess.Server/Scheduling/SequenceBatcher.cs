using System.Buffers.Binary;
using System.Diagnostics;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>Triton's sequence batcher (direct strategy, one request per execution): per-sequence implicit state, START/END, control inputs, idle reaping and a backlog when all slots are taken.</summary>
/// <remarks>
/// Slots = instances × max(1, max_batch_size). Requests of one sequence run one at a time in arrival order.
/// On START the state is re-created from <c>initial_state</c> (zeros for zero_data; zeros too when no initial_state is
/// given, where Triton leaves the memory uninitialized). After each execution the state output becomes the next state input.
/// Where the model's instances run through IO bindings the state stays in device memory (<see cref="DeviceSequenceState"/>):
/// each slot is then tied to one instance, as Triton ties its slots, and its requests run there. Otherwise (no binding,
/// <c>sequence_state: host</c>, BYTES or variable-shape state) the slot keeps it as host tensors, fed in with each request.
/// </remarks>
public sealed class SequenceBatcher : IDisposable
{
    private sealed class Slot
    {
        public readonly SemaphoreSlim Gate = new(0, 1);
        public TensorData?[] States = [];
        public DeviceSequenceState? Device;
        public long LastUsed = Stopwatch.GetTimestamp();
        public int Users;
        public bool HasCapacity;
    }

    private readonly OnnxModelVersion _model;
    private readonly ModelSequenceBatching _config;
    private readonly int _maxBatchSize;
    private readonly byte[]?[] _initialData;
    private readonly Action<SequenceId> _onSlotFreed;
    private readonly Dictionary<SequenceId, Slot> _slots = [];
    private readonly SemaphoreSlim _capacity;
    private readonly Timer _reaper;
    private readonly long _idleTicks;
    private readonly StateSpec[]? _deviceSpecs;
    private readonly int[] _slotsOnInstance;
    private int _live;

    /// <summary>A batcher over <paramref name="instances"/> instances; <paramref name="deviceState"/> keeps each slot's state in its instance's device memory (the model checked that every instance is bound and the state fits).</summary>
    public SequenceBatcher(OnnxModelVersion model, ModelSequenceBatching config, int maxBatchSize, int instances, byte[]?[] initialData, Action<SequenceId> onSlotFreed,
        bool deviceState = false)
    {
        _model = model;
        _config = config;
        _maxBatchSize = maxBatchSize;
        _initialData = initialData;
        _onSlotFreed = onSlotFreed;
        _capacity = new SemaphoreSlim(instances * Math.Max(1, maxBatchSize));
        ulong idleUs = config.MaxSequenceIdleMicroseconds == 0 ? 1_000_000 : config.MaxSequenceIdleMicroseconds;
        _idleTicks = (long)Math.Min(long.MaxValue / 2, idleUs * (double)Stopwatch.Frequency / 1e6);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(idleUs / 4000.0, 5, 1000));
        _slotsOnInstance = new int[instances];
        if (deviceState)
        {
            var shapes = InitialStates();
            _deviceSpecs = new StateSpec[shapes.Length];
            for (int s = 0; s < shapes.Length; s++)
                _deviceSpecs[s] = new StateSpec(config.State[s].InputName, config.State[s].OutputName, config.State[s].DataType, shapes[s]!.Shape);
        }
        _reaper = new Timer(_ => Reap(), null, period, period);
    }

    /// <summary>True when slots keep their state in device memory rather than as host tensors.</summary>
    public bool DeviceState => _deviceSpecs is not null;

    /// <summary>Sequences holding a slot (or waiting for one).</summary>
    public int LiveSequences => Volatile.Read(ref _live);

    public async Task<ExecutionOutputs> ExecuteAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var id = request.Sequence;
        if (id.IsNone)
            throw InferenceException.Invalid($"inference request to model '{_model.Name}' must specify a non-zero or non-empty correlation ID");
        Slot slot;
        bool created = false;
        lock (_slots)
        {
            if (_slots.TryGetValue(id, out var existing))
            {
                slot = existing;
            }
            else
            {
                if (!request.SequenceStart)
                    throw InferenceException.Invalid($"inference request for sequence {id} to model '{_model.Name}' must specify the START flag on the first request of the sequence");
                slot = new Slot();
                _slots[id] = slot;
                Interlocked.Increment(ref _live);
                created = true; // the creator holds the gate (initial count 0)
            }
            slot.Users++;
        }
        try
        {
            if (!created) await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            // The gate is held from here on: no other execution of this slot runs, so its state can be used and freed.
            try
            {
                bool current;
                lock (_slots) current = _slots.TryGetValue(id, out var registered) && ReferenceEquals(registered, slot);
                if (!current)
                    throw InferenceException.Invalid($"inference request for sequence {id} to model '{_model.Name}' must specify the START flag on the first request of the sequence");
                if (!slot.HasCapacity)
                {
                    // Backlog: a new sequence waits until a slot frees (an END or the idle timer).
                    await _capacity.WaitAsync(cancellationToken).ConfigureAwait(false);
                    slot.HasCapacity = true;
                    if (_deviceSpecs is not null) slot.Device = new DeviceSequenceState(TakeInstance(), _deviceSpecs);
                }
                var inputs = new Dictionary<string, TensorData>(request.Inputs, StringComparer.Ordinal);
                ExecutionOutputs e;
                if (slot.Device is { } device)
                {
                    // START (or the slot's first run) feeds the initial state from the host; after that it is already on the device.
                    if (request.SequenceStart || !device.Initialized)
                    {
                        var initial = InitialStates();
                        for (int s = 0; s < _config.State.Count; s++) inputs[_config.State[s].InputName] = initial[s]!;
                    }
                    AddControls(inputs, request);
                    e = await _model.RunSequenceAsync(device, inputs, _model.OutputsFor(request), cancellationToken, request.LeavePending).ConfigureAwait(false);
                }
                else
                {
                    if (request.SequenceStart || slot.States.Length == 0) slot.States = InitialStates();
                    for (int s = 0; s < _config.State.Count; s++) inputs[_config.State[s].InputName] = slot.States[s]!;
                    AddControls(inputs, request);
                    e = await _model.RunAsync(inputs, _model.OutputsFor(request), cancellationToken, request.LeavePending).ConfigureAwait(false);
                    var next = new TensorData?[_config.State.Count];
                    for (int s = 0; s < next.Length; s++) next[s] = e.Outputs[_config.State[s].OutputName];
                    slot.States = next;
                }
                slot.LastUsed = Stopwatch.GetTimestamp();
                if (request.SequenceEnd) Free(id, slot);
                return e;
            }
            catch when (created)
            {
                // A START that never ran must not leave a slot that later requests would find (freed while the gate is held).
                Free(id, slot);
                throw;
            }
            finally
            {
                slot.Gate.Release();
            }
        }
        finally
        {
            lock (_slots) slot.Users--;
        }
    }

    /// <summary>The instance with the fewest slots: slots = instances × max(1, max_batch_size), so none takes more than its share.</summary>
    private int TakeInstance()
    {
        lock (_slots)
        {
            int best = 0;
            for (int i = 1; i < _slotsOnInstance.Length; i++)
                if (_slotsOnInstance[i] < _slotsOnInstance[best]) best = i;
            _slotsOnInstance[best]++;
            return best;
        }
    }

    /// <summary>Frees a slot whose gate the caller holds (END, or a START that failed).</summary>
    private void Free(SequenceId id, Slot slot)
    {
        bool removed;
        lock (_slots)
        {
            removed = _slots.TryGetValue(id, out var s) && ReferenceEquals(s, slot) && _slots.Remove(id);
        }
        if (removed) Release(id, slot);
    }

    /// <summary>What a slot held once it is out of the table: its capacity, its instance share and its device state.</summary>
    private void Release(SequenceId id, Slot slot)
    {
        if (slot.Device is { } device)
        {
            lock (_slots) _slotsOnInstance[device.Instance]--;
            device.Dispose();
        }
        if (slot.HasCapacity)
        {
            slot.HasCapacity = false;
            _capacity.Release();
        }
        Interlocked.Decrement(ref _live);
        _onSlotFreed(id);
    }

    private void Reap()
    {
        long now = Stopwatch.GetTimestamp();
        List<(SequenceId, Slot)>? idle = null;
        lock (_slots)
        {
            // Checked and removed under one lock: a request counts itself a user under this lock before it takes the
            // gate, so a slot removed here has no execution running or about to run, and its state can be freed.
            foreach (var (id, s) in _slots)
                if (s.Users == 0 && now - s.LastUsed > _idleTicks) (idle ??= []).Add((id, s));
            foreach (var (id, _) in idle ?? []) _slots.Remove(id);
        }
        foreach (var (id, s) in idle ?? []) Release(id, s);
    }

    /// <summary>A live sequence's state as its next request will read it, copied to the host (tests, debugging); null when there is none.</summary>
    internal async Task<TensorData[]?> ReadStateAsync(SequenceId id, CancellationToken cancellationToken)
    {
        Slot? slot;
        lock (_slots)
        {
            if (!_slots.TryGetValue(id, out slot)) return null;
            slot.Users++;
        }
        try
        {
            await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (slot.Device is { } device) return device.CopyToHost();
                return slot.States.Length == 0 ? null : [.. slot.States.Select(t => t!)];
            }
            finally
            {
                slot.Gate.Release();
            }
        }
        finally
        {
            lock (_slots) slot.Users--;
        }
    }

    /// <summary>Frees the device state of every slot left; the model calls it once no execution can run any more.</summary>
    internal void ReleaseStates()
    {
        lock (_slots)
            foreach (var s in _slots.Values) s.Device?.Dispose();
    }

    private TensorData?[] InitialStates()
    {
        var states = new TensorData?[_config.State.Count];
        for (int s = 0; s < states.Length; s++)
        {
            var st = _config.State[s];
            var dims = new List<long>();
            if (_maxBatchSize > 0) dims.Add(1);
            foreach (var d in st.InitialState.Count == 1 && st.InitialState[0].Dims.Count > 0 ? st.InitialState[0].Dims : st.Dims) dims.Add(d < 0 ? 1 : d);
            var shape = dims.ToArray();
            states[s] = _initialData[s] is { } data ? new TensorData(st.DataType, shape, data) : TensorData.Zeros(st.DataType, shape);
        }
        return states;
    }

    private void AddControls(Dictionary<string, TensorData> inputs, InferenceRequest request)
    {
        foreach (var ci in _config.ControlInput)
        {
            foreach (var c in ci.Control)
            {
                long[] shape = _maxBatchSize > 0 ? [1, 1] : [1];
                bool flag = c.Kind switch
                {
                    ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceStart => request.SequenceStart,
                    ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceEnd => request.SequenceEnd,
                    _ => true,
                };
                if (c.Kind == ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceCorrid)
                {
                    var size = TensorTypes.ElementSize(c.DataType);
                    var b = new byte[size];
                    long v = request.Sequence.Number;
                    if (size == 8) BinaryPrimitives.WriteInt64LittleEndian(b, v);
                    else BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
                    inputs[ci.Name] = new TensorData(c.DataType, shape, b);
                }
                else if (c.Int32FalseTrue.Count == 2)
                {
                    var b = new byte[4];
                    BinaryPrimitives.WriteInt32LittleEndian(b, c.Int32FalseTrue[flag ? 1 : 0]);
                    inputs[ci.Name] = new TensorData(DataType.TypeInt32, shape, b);
                }
                else if (c.Fp32FalseTrue.Count == 2)
                {
                    var b = new byte[4];
                    BinaryPrimitives.WriteSingleLittleEndian(b, c.Fp32FalseTrue[flag ? 1 : 0]);
                    inputs[ci.Name] = new TensorData(DataType.TypeFp32, shape, b);
                }
                else if (c.BoolFalseTrue.Count == 2)
                {
                    inputs[ci.Name] = new TensorData(DataType.TypeBool, shape, new[] { (byte)(c.BoolFalseTrue[flag ? 1 : 0] ? 1 : 0) });
                }
            }
        }
    }

    public void Dispose()
    {
        _reaper.Dispose();
    }
}
