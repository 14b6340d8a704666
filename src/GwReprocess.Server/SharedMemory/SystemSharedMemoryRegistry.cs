using System.Buffers;
using System.IO.MemoryMappedFiles;
using Grpc.Core;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.SharedMemory;

/// <summary>Triton's system shared-memory extension: named regions of POSIX shared-memory objects (/dev/shm), mapped once at registration.</summary>
public sealed class SystemSharedMemoryRegistry : IDisposable
{
    /// <summary>Where POSIX shm_open objects live on Linux.</summary>
    private const string ShmDirectory = "/dev/shm";

    private readonly Dictionary<string, SharedMemoryRegion> _regions = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Maps <c>[offset, offset + byteSize)</c> of the object <paramref name="key"/> under <paramref name="name"/>; every argument is checked before anything is mapped.</summary>
    /// <remarks>
    /// Codes and messages are Triton's (shared_memory_manager.cc), so gRPC and HTTP answer alike: a key shm_open cannot open is
    /// INTERNAL, a range outside the object INVALID_ARGUMENT ("invalid args"), a taken name ALREADY_EXISTS.
    /// </remarks>
    public void Register(string name, string key, ulong offset, ulong byteSize)
    {
        if (name.Length == 0) throw InferenceException.Invalid("shared memory region name must not be empty");
        // Triton's order: the name, then opening the object, then the range.
        lock (_lock)
        {
            if (_regions.ContainsKey(name)) throw AlreadyExists(name);
        }
        string objectName = key.StartsWith('/') ? key[1..] : key;
        // One path component, as shm_open requires (it fails with EINVAL otherwise): no directory traversal out of /dev/shm.
        if (objectName.Length == 0 || objectName.Contains('/') || objectName is "." or ".." || objectName.Contains('\0'))
            throw CannotOpen(key);
        var path = Path.Combine(ShmDirectory, objectName);
        var info = new FileInfo(path);
        // shm_open opens with O_NOFOLLOW: a link planted in /dev/shm must not map (and let clients overwrite) its target.
        if (!info.Exists || info.LinkTarget is not null) throw CannotOpen(key);
        if (byteSize == 0)
            throw InferenceException.Invalid($"failed to register shared memory region '{name}': invalid args (byte size 0)");
        if (offset > long.MaxValue || byteSize > long.MaxValue - offset)
            throw InferenceException.Invalid($"failed to register shared memory region '{name}': invalid args (offset {offset} + byte size {byteSize} overflows)");
        if ((ulong)info.Length < offset + byteSize)
            throw InferenceException.Invalid($"failed to register shared memory region '{name}': invalid args (offset {offset} + byte size {byteSize} exceeds the {info.Length} bytes of '{key}')");
        SharedMemoryRegion region;
        try { region = SharedMemoryRegion.Map(name, key, path, (long)offset, (long)byteSize); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InferenceException(StatusCode.Internal, $"Unable to open shared memory region: '{key}' ({e.Message})");
        }
        lock (_lock)
        {
            if (_regions.TryAdd(name, region)) return;
        }
        region.Release();
        throw AlreadyExists(name);
    }

    private static InferenceException CannotOpen(string key) => new(StatusCode.Internal, $"Unable to open shared memory region: '{key}'");

    private static InferenceException AlreadyExists(string name) => new(StatusCode.AlreadyExists, $"shared memory region '{name}' already in manager");

    /// <summary>Triton: an unknown name is no error; an empty name unregisters every region. Mappings in use by a request go when it ends.</summary>
    public void Unregister(string name)
    {
        List<SharedMemoryRegion> removed = [];
        lock (_lock)
        {
            if (name.Length == 0)
            {
                removed.AddRange(_regions.Values);
                _regions.Clear();
            }
            else if (_regions.Remove(name, out var r)) removed.Add(r);
        }
        foreach (var r in removed) r.Release();
    }

    /// <summary>Every region (in name order), or the one named (NOT_FOUND when unknown): what both front ends report.</summary>
    public IReadOnlyList<SharedMemoryRegionStatus> Regions(string name)
    {
        var rows = new List<SharedMemoryRegionStatus>();
        lock (_lock)
        {
            foreach (var r in _regions.Values)
                if (name.Length == 0 || r.Name == name)
                    rows.Add(new SharedMemoryRegionStatus(r.Name, r.Key, (ulong)r.Offset, (ulong)r.ByteSize));
        }
        if (name.Length > 0 && rows.Count == 0)
            throw InferenceException.NotFound($"Unable to find system shared memory region: '{name}'");
        rows.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return rows;
    }

    /// <summary>The gRPC form of <see cref="Regions"/>.</summary>
    public SystemSharedMemoryStatusResponse Status(string name)
    {
        var response = new SystemSharedMemoryStatusResponse();
        foreach (var r in Regions(name))
            response.Regions[r.Name] = new SystemSharedMemoryStatusResponse.Types.RegionStatus { Name = r.Name, Key = r.Key, Offset = r.Offset, ByteSize = r.ByteSize };
        return response;
    }

    /// <summary>Takes a reference on the region for the duration of a request (null when not registered).</summary>
    internal SharedMemoryRegion? Acquire(string name)
    {
        lock (_lock)
        {
            if (!_regions.TryGetValue(name, out var r)) return null;
            r.AddUser();
            return r;
        }
    }

    public void Dispose() => Unregister("");
}

/// <summary>One registered region as Triton's status reports it (the key as given at registration).</summary>
public sealed record SharedMemoryRegionStatus(string Name, string Key, ulong Offset, ulong ByteSize);

/// <summary>One registered region: a read-write view of the shm object, unmapped when unregistered and no request uses it.</summary>
internal sealed unsafe class SharedMemoryRegion
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private int _users = 1; // the registry's own reference

    private SharedMemoryRegion(string name, string key, long offset, long byteSize, MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        Name = name;
        Key = key;
        Offset = offset;
        ByteSize = byteSize;
        _file = file;
        _view = view;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + view.PointerOffset;
    }

    public string Name { get; }

    public string Key { get; }

    public long Offset { get; }

    public long ByteSize { get; }

    public static SharedMemoryRegion Map(string name, string key, string path, long offset, long byteSize)
    {
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        try
        {
            var view = file.CreateViewAccessor(offset, byteSize, MemoryMappedFileAccess.ReadWrite);
            return new SharedMemoryRegion(name, key, offset, byteSize, file, view);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void AddUser() => Interlocked.Increment(ref _users);

    public void Release()
    {
        if (Interlocked.Decrement(ref _users) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>Bytes <c>[offset, offset + length)</c> of the region (bounds checked by the caller).</summary>
    public SharedMemorySlice Slice(long offset, int length) => new(_pointer + offset, length);
}

/// <summary>A tensor's bytes inside a mapped region, handed to the inference path without a copy.</summary>
internal sealed unsafe class SharedMemorySlice(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }
}

/// <summary>The regions one request uses: resolved and bounds-checked while decoding, held until its response is built.</summary>
public sealed class SharedMemoryLease(SystemSharedMemoryRegistry registry) : IDisposable
{
    private List<SharedMemoryRegion>? _held;
    private Dictionary<string, SharedMemorySlice>? _outputs;

    /// <summary>Requested outputs to be written into shared memory, by name.</summary>
    internal IReadOnlyDictionary<string, SharedMemorySlice>? Outputs => _outputs;

    /// <summary>Whether the request named any region (the raw-contents path skips the shared-memory steps otherwise).</summary>
    internal bool HoldsRegions => _held is not null;

    /// <summary>Triton's <c>shared_memory_*</c> parameters of an input or requested output; null when it does not use shared memory.</summary>
    public static (string Region, long ByteSize, long Offset)? Parameters(IDictionary<string, InferParameter> parameters, string tensor, string model)
    {
        bool hasRegion = parameters.TryGetValue("shared_memory_region", out var region);
        bool hasSize = parameters.TryGetValue("shared_memory_byte_size", out var size);
        bool hasOffset = parameters.TryGetValue("shared_memory_offset", out var offset);
        if (!hasRegion && !hasSize && !hasOffset) return null;
        if (!hasRegion || region!.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.StringParam)
            throw InferenceException.Invalid($"'shared_memory_region' (string_param) is required with shared memory parameters for tensor '{tensor}' for model '{model}'");
        if (!hasSize) throw InferenceException.Invalid($"'shared_memory_byte_size' is required when using shared memory for tensor '{tensor}' for model '{model}'");
        long bytes = NonNegative(size!, "shared_memory_byte_size", tensor, model);
        long at = hasOffset ? NonNegative(offset!, "shared_memory_offset", tensor, model) : 0;
        return (region.StringParam, bytes, at);
    }

    private static long NonNegative(InferParameter p, string key, string tensor, string model) => p.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.Int64Param when p.Int64Param >= 0 => p.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Uint64Param when p.Uint64Param <= long.MaxValue => (long)p.Uint64Param,
        _ => throw InferenceException.Invalid($"invalid value for '{key}' of tensor '{tensor}' for model '{model}', expected a non-negative int64_param"),
    };

    /// <summary>The bytes <c>[offset, offset + byteSize)</c> of a registered region: NOT_FOUND when unknown, INVALID_ARGUMENT when out of its bounds.</summary>
    internal SharedMemorySlice Resolve(string name, long byteSize, long offset, string tensor, string model)
    {
        // Triton: an unknown region is NOT_FOUND (GetMemoryInfo), a range outside it INVALID_ARGUMENT.
        var region = Hold(name) ?? throw InferenceException.NotFound($"Unable to find shared memory region: '{name}' for tensor '{tensor}' for model '{model}'");
        if (offset > region.ByteSize || byteSize > region.ByteSize - offset)
            throw InferenceException.Invalid($"Invalid offset + byte size for shared memory region: '{name}' (offset {offset} + {byteSize} bytes, region of {region.ByteSize} bytes) for tensor '{tensor}' for model '{model}'");
        if (byteSize > int.MaxValue)
            throw InferenceException.Invalid($"shared memory byte size {byteSize} of tensor '{tensor}' for model '{model}' is more than one tensor can hold");
        return region.Slice(offset, (int)byteSize);
    }

    internal void AddOutput(string name, SharedMemorySlice slice) => (_outputs ??= new(StringComparer.Ordinal))[name] = slice;

    private SharedMemoryRegion? Hold(string name)
    {
        if (_held is not null)
            foreach (var r in _held)
                if (r.Name == name) return r;
        var region = registry.Acquire(name);
        if (region is not null) (_held ??= []).Add(region);
        return region;
    }

    /// <summary>Writes the outputs requested in shared memory; a tensor larger than its slice is INTERNAL (Triton's allocator, gRPC and HTTP alike), nothing written for it.</summary>
    internal void WriteOutputs(InferenceResult result)
    {
        if (_outputs is null) return;
        foreach (var (name, tensor) in result.Outputs)
        {
            if (!_outputs.TryGetValue(name, out var slice)) continue;
            var target = slice.GetSpan();
            if (tensor.Bytes.Length > target.Length)
                throw new InferenceException(StatusCode.Internal, $"shared memory size specified with the request for output '{name}' ({target.Length} bytes) should be at least {tensor.Bytes.Length} bytes to hold the results");
            tensor.Bytes.Span.CopyTo(target);
        }
    }

    /// <summary>The result with any output still pointing into a region copied out (an output may alias an input), so it outlives the mapping.</summary>
    internal static InferenceResult Detach(InferenceResult result)
    {
        List<(string, TensorData)>? copy = null;
        for (int i = 0; i < result.Outputs.Count; i++)
        {
            var (name, t) = result.Outputs[i];
            if (copy is null && !System.Runtime.InteropServices.MemoryMarshal.TryGetMemoryManager<byte, SharedMemorySlice>(t.Bytes, out _)) continue;
            copy ??= [.. result.Outputs.Take(i)];
            copy.Add(System.Runtime.InteropServices.MemoryMarshal.TryGetMemoryManager<byte, SharedMemorySlice>(t.Bytes, out _)
                ? (name, new TensorData(t.Type, t.Shape, t.Bytes.ToArray()))
                : (name, t));
        }
        return copy is null ? result : result with { Outputs = copy };
    }

    public void Dispose()
    {
        if (_held is null) return;
        foreach (var r in _held) r.Release();
        _held = null;
    }
}
