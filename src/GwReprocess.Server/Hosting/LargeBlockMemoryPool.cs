using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace GwReprocess.Server.Hosting;

/// <summary>Gives Kestrel pinned buffers of <see cref="LargeBlockMemoryPool.BlockSize"/> bytes instead of its own 4 KiB blocks.</summary>
/// <remarks>
/// Kestrel reads a socket into whatever is left of the current block of its input pipe, so with 4 KiB blocks a
/// multi-MB tensor arrives in one receive call, one pipe segment and one copy step per 4 KiB at every stage
/// (socket → connection pipe → HTTP/2 input pipe → request body pipe). With larger blocks the same bytes take a
/// fraction of the calls. All pools the server creates share one set of blocks, so the memory held when idle is
/// bounded by <see cref="LargeBlockMemoryPool.MaxRetainedBlocks"/> whatever the number of I/O queues.
/// </remarks>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    private readonly LargeBlockMemoryPool _pool = new();

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => _pool;
}

/// <summary>A pool of pinned, fixed-size blocks (larger requests get an unpooled buffer of their own).</summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Bytes per block: 64 KiB, the loopback MTU; measured on a 5.5 MB request, larger blocks (up to 1 MiB) saved no further CPU.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Free blocks kept for reuse (32 MiB); blocks handed back beyond that are left to the GC.</summary>
    public const int MaxRetainedBlocks = 32 * 1024 * 1024 / BlockSize;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize) return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Lease();
            return block;
        }
        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    /// <summary>The blocks are shared by every pool handed out by the factory and stay for the process; nothing to release per pool.</summary>
    protected override void Dispose(bool disposing) { }

    /// <summary>One block of a pinned array (array-backed, as Kestrel's socket sender requires); disposing the lease hands it back (once).</summary>
    private sealed class Block(LargeBlockMemoryPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _leased = 1;

        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);

        public void Lease() => _leased = 1;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 1) pool?.Return(this);
        }
    }
}
