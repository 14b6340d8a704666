using System.Buffers;
using Google.Protobuf;
using GwReprocess.Server.Protocol;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>The pooled request reader builds exactly the message protobuf's parser builds, whatever the segmentation of the payload.</summary>
public sealed class InferRequestMarshallerTests
{
    private static ModelInferRequest Sample(int largeBytes, int seed)
    {
        var rng = new Random(seed);
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            rng.NextBytes(b);
            return b;
        }
        var r = new ModelInferRequest { ModelName = "deepclean-h1", ModelVersion = "2", Id = "req-7" };
        r.Parameters["sequence_id"] = new InferParameter { Int64Param = 1001 };
        r.Parameters["sequence_start"] = new InferParameter { BoolParam = true };
        r.Parameters["note"] = new InferParameter { DoubleParam = 0.25 };
        foreach (var (name, shape) in new[] { ("a", new long[] { 1, largeBytes / 4 }), ("b", [3]), ("c", [2, 2]) })
        {
            var t = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "FP32" };
            t.Shape.AddRange(shape);
            t.Parameters["binary_data_size"] = new InferParameter { Int64Param = shape.Aggregate(4L, (x, y) => x * y) };
            r.Inputs.Add(t);
        }
        r.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "noise" });
        r.RawInputContents.Add(ByteString.CopyFrom(Bytes(largeBytes)));
        r.RawInputContents.Add(ByteString.CopyFrom(Bytes(12)));
        r.RawInputContents.Add(ByteString.CopyFrom(Bytes(InferRequestMarshaller.PoolThreshold)));
        return r;
    }

    /// <summary>The payload cut into segments of <paramref name="segment"/> bytes, as Kestrel's pipe hands it over.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] payload, int segment)
    {
        Chunk? first = null, last = null;
        for (int offset = 0; offset < payload.Length; offset += segment)
        {
            var c = new Chunk(payload.AsMemory(offset, Math.Min(segment, payload.Length - offset)));
            if (first is null) first = last = c;
            else last = last!.Append(c);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Chunk Append(ReadOnlyMemory<byte> memory) => Append(new Chunk(memory));

        public Chunk Append(Chunk next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }

    [Theory]
    [InlineData(300_000, 4096)]
    [InlineData(300_000, 1)]
    [InlineData(100, 7)]
    [InlineData(1 << 20, 1 << 30)]
    public void ParsesToTheMessageProtobufParses(int largeBytes, int segment)
    {
        var payload = Sample(largeBytes, largeBytes + segment).ToByteArray();
        var expected = ModelInferRequest.Parser.ParseFrom(payload);
        var parsed = InferRequestMarshaller.Parse(Segmented(payload, segment));
        Assert.Equal(expected, parsed);
        Assert.Equal(payload, parsed.ToByteArray());
        InferRequestMarshaller.Release(parsed);
    }

    [Fact]
    public void RawContentsInterleavedWithOtherFieldsKeepTheirOrder()
    {
        // Field 7 entries between other fields (a legal encoding protobuf never writes itself) still come out in order.
        var a = new ModelInferRequest { ModelName = "m" };
        a.RawInputContents.Add(ByteString.CopyFrom(new byte[InferRequestMarshaller.PoolThreshold + 1]));
        var b = new ModelInferRequest { Id = "x" };
        b.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "in" });
        b.RawInputContents.Add(ByteString.CopyFrom(1, 2, 3));
        var c = new ModelInferRequest { ModelName = "n" };
        c.RawInputContents.Add(ByteString.CopyFrom(9));
        var payload = a.ToByteArray().Concat(b.ToByteArray()).Concat(c.ToByteArray()).ToArray();
        var parsed = InferRequestMarshaller.Parse(Segmented(payload, 1000));
        Assert.Equal(ModelInferRequest.Parser.ParseFrom(payload), parsed);
        Assert.Equal("n", parsed.ModelName);
        Assert.Equal(3, parsed.RawInputContents.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, parsed.RawInputContents[1].ToByteArray());
        InferRequestMarshaller.Release(parsed);
    }

    [Fact]
    public void EmptyPayloadIsAnEmptyRequest() =>
        Assert.Equal(new ModelInferRequest(), InferRequestMarshaller.Parse(ReadOnlySequence<byte>.Empty));

    [Theory]
    [InlineData(10)]
    [InlineData(200_000)]
    [InlineData(300_013)]
    public void TruncatedOrCorruptPayloadsFailAsProtobufDoes(int cut)
    {
        var payload = Sample(300_000, 3).ToByteArray()[..cut];
        // A trailing field-1 varint that never ends.
        var corrupt = Sample(300_000, 4).ToByteArray().Append((byte)0x08).Append((byte)0x80).ToArray();
        foreach (var bad in new[] { payload, corrupt, [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], new byte[] { 0x00 } })
        {
            Assert.Throws<InvalidProtocolBufferException>(() => ModelInferRequest.Parser.ParseFrom(bad));
            Assert.Throws<InvalidProtocolBufferException>(() => InferRequestMarshaller.Parse(Segmented(bad, 4096)));
        }
    }

    [Fact]
    public void ReleasedLargeContentsCannotBeReadAgain()
    {
        var parsed = InferRequestMarshaller.Parse(new ReadOnlySequence<byte>(Sample(300_000, 5).ToByteArray()));
        var large = parsed.RawInputContents[0];
        var small = parsed.RawInputContents[1];
        Assert.Equal(300_000, large.Length);
        InferRequestMarshaller.Release(parsed);
        Assert.Throws<ObjectDisposedException>(() => large.Span.Length);
        Assert.Equal(12, small.Span.Length); // small contents are ordinary arrays, never pooled
        InferRequestMarshaller.Release(parsed); // a second release is harmless
    }
}
