using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Inference;

namespace GwReprocess.Server.Protocol;

/// <summary>Reads a ModelInferRequest with its large raw_input_contents in pooled buffers, so a multi-MB tensor costs one copy out of the transport and no fresh large-object-heap array (whose pages the kernel must fault in and zero on every request).</summary>
/// <remarks>
/// Protobuf's own parser copies every bytes field into a new array. Here the top-level fields are walked on the
/// received payload: each raw_input_contents entry (field 7) of at least <see cref="PoolThreshold"/> bytes is copied
/// into a rented buffer and wrapped without a further copy; every other field is handed to the generated parser,
/// in its original order, so the message is the one protobuf would build. Anything unusual in the framing falls
/// back to the generated parser on the whole payload (same message, same errors). The service hands the buffers
/// back with <see cref="Release"/> once the call no longer needs the request.
/// </remarks>
public static class InferRequestMarshaller
{
    /// <summary>Raw inputs at least this large are pooled; smaller ones are ordinary arrays (cheap in gen0).</summary>
    public const int PoolThreshold = 64 * 1024;

    private const uint RawInputContentsTag = (7 << 3) | 2;

    /// <summary>The marshaller the gRPC service binds for ModelInfer and ModelStreamInfer requests.</summary>
    public static readonly Marshaller<ModelInferRequest> Instance = Marshallers.Create<ModelInferRequest>(
        static (message, context) =>
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        static context => Parse(context.PayloadAsReadOnlySequence()));

    /// <summary>Parses a serialized ModelInferRequest; large raw inputs live in pooled buffers until <see cref="Release"/>.</summary>
    public static ModelInferRequest Parse(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        ArrayBufferWriter<byte>? rest = null;
        List<ByteString>? raw = null;
        try
        {
            while (!reader.End)
            {
                long fieldStart = reader.Consumed;
                if (!TryReadVarint(ref reader, out ulong tag) || tag >> 3 == 0) return Fallback(payload, raw);
                switch ((int)(tag & 7))
                {
                    case 0:
                        if (!TryReadVarint(ref reader, out _)) return Fallback(payload, raw);
                        break;
                    case 1:
                        if (reader.Remaining < 8) return Fallback(payload, raw);
                        reader.Advance(8);
                        break;
                    case 5:
                        if (reader.Remaining < 4) return Fallback(payload, raw);
                        reader.Advance(4);
                        break;
                    case 2:
                        if (!TryReadVarint(ref reader, out ulong length) || length > (ulong)reader.Remaining) return Fallback(payload, raw);
                        if (tag == RawInputContentsTag)
                        {
                            (raw ??= []).Add(Copy(payload.Slice(reader.Position, (long)length)));
                            reader.Advance((long)length);
                            continue;
                        }
                        reader.Advance((long)length);
                        break;
                    default:
                        return Fallback(payload, raw);
                }
                rest ??= new ArrayBufferWriter<byte>(256);
                foreach (var segment in payload.Slice(fieldStart, reader.Consumed - fieldStart)) rest.Write(segment.Span);
            }
            var request = rest is null ? new ModelInferRequest() : ModelInferRequest.Parser.ParseFrom(rest.WrittenSpan);
            if (raw is not null) request.RawInputContents.Add(raw);
            return request;
        }
        catch
        {
            ReleaseAll(raw);
            throw;
        }
    }

    /// <summary>Hands back the pooled buffers of a request read by <see cref="Parse"/>; the request's raw contents are unusable afterwards.</summary>
    public static void Release(ModelInferRequest request)
    {
        foreach (var bytes in request.RawInputContents)
            if (MemoryMarshal.TryGetMemoryManager<byte, PooledBuffer>(bytes.Memory, out var buffer)) buffer.Return();
    }

    private static void ReleaseAll(List<ByteString>? raw)
    {
        foreach (var bytes in raw ?? [])
            if (MemoryMarshal.TryGetMemoryManager<byte, PooledBuffer>(bytes.Memory, out var buffer)) buffer.Return();
    }

    private static ModelInferRequest Fallback(ReadOnlySequence<byte> payload, List<ByteString>? raw)
    {
        ReleaseAll(raw);
        return ModelInferRequest.Parser.ParseFrom(payload);
    }

    private static ByteString Copy(ReadOnlySequence<byte> source)
    {
        int length = checked((int)source.Length);
        if (length < PoolThreshold)
        {
            var array = GC.AllocateUninitializedArray<byte>(length);
            source.CopyTo(array);
            return UnsafeByteOperations.UnsafeWrap(array);
        }
        var buffer = PooledBuffer.Rent(length);
        source.CopyTo(buffer.GetSpan());
        return UnsafeByteOperations.UnsafeWrap(buffer.Memory);
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out byte b)) return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    /// <summary>A rented array seen as exactly <c>length</c> bytes; after <see cref="Return"/> any further access throws instead of reading a buffer someone else now owns.</summary>
    private sealed class PooledBuffer : MemoryManager<byte>
    {
        private byte[]? _array;
        private readonly int _length;

        private PooledBuffer(byte[] array, int length)
        {
            _array = array;
            _length = length;
        }

        public static PooledBuffer Rent(int length) => new(ArrayPool<byte>.Shared.Rent(length), length);

        public override Span<byte> GetSpan() =>
            (_array ?? throw new ObjectDisposedException(nameof(PooledBuffer), "a request's pooled tensor was used after the call released it")).AsSpan(0, _length);

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            var array = _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));
            var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            unsafe { return new MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle, this); }
        }

        public override void Unpin() { }

        public void Return()
        {
            var array = Interlocked.Exchange(ref _array, null);
            if (array is not null) ArrayPool<byte>.Shared.Return(array);
        }

        protected override void Dispose(bool disposing) => Return();
    }
}
