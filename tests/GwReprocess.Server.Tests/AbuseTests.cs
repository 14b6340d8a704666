using System.Buffers.Binary;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Hundreds of malformed or unauthenticated calls each get an error while a valid stream keeps being served.</summary>
public sealed class AbuseTests
{
    private const string Token = "s3cret-token";
    private static readonly Metadata Auth = new() { { "authorization", "Bearer " + Token } };

    [Fact]
    public async Task MalformedRequestsFailOneByOneAndAValidStreamKeepsGoing()
    {
        await using var s = await TestServer.StartAsync(o => o with { Token = Token });
        var rng = new Random(2026);

        // The valid stream: a sequence through the snapshotter, checked against its expected windows at the end.
        var streamTask = Task.Run(async () =>
        {
            using var call = s.Client.ModelStreamInfer(Auth);
            const int requests = 60;
            var reader = Task.Run(async () =>
            {
                var got = new List<ModelStreamInferResponse>();
                await foreach (var r in call.ResponseStream.ReadAllAsync()) got.Add(r);
                return got;
            });
            var updates = new List<float[]>();
            for (int i = 0; i < requests; i++)
            {
                var u = TestServer.Signal(3 * 64, 500 + i);
                updates.Add(u);
                await call.RequestStream.WriteAsync(TestServer.InSequence(
                    TestServer.RawRequest(ModelRepositoryBuilder.StreamSnapshotter, "snapshot_update", u, [1, 3, 64], $"v{i}"), 77, i == 0, i == requests - 1));
                await Task.Delay(10);
            }
            await call.RequestStream.CompleteAsync();
            return (updates, await reader);
        });

        var x = new float[2 * 3 * 1024];
        var malformed = new List<(string What, Func<Task> Call)>();
        Task Infer(ModelInferRequest r, Metadata? headers = null) => s.Client.ModelInferAsync(r, headers ?? Auth).ResponseAsync;
        for (int i = 0; i < 40; i++)
        {
            long[] shape = [rng.Next(1, 4), rng.Next(1, 5), rng.Next(1, 2000)];
            if (shape is [2, 3, 1024]) shape[2] = 1023;
            malformed.Add(($"wrong shape {TestServer.Signal(1, i)[0]}", () => Infer(TestServer.RawRequest("deepclean-h1", "witness", new float[shape[0] * shape[1] * shape[2]], shape))));
        }
        foreach (var shape in new long[][] { [2, 3, 1L << 40], [1L << 62, 1L << 62, 4], [2, -3, 1024], [-1], [2, 3, 1024, 1], [], [0, 0, 0] })
            for (int i = 0; i < 5; i++)
                malformed.Add(("huge or negative dims", () => Infer(TestServer.RawRequest("deepclean-h1", "witness", new float[8], shape))));
        for (int i = 0; i < 30; i++)
            malformed.Add(("missing input", () => Infer(new ModelInferRequest { ModelName = i % 2 == 0 ? "deepclean-h1" : "gwe2e" })));
        for (int i = 0; i < 30; i++)
        {
            var garbage = new byte[rng.Next(0, 5000)];
            rng.NextBytes(garbage);
            var r = TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]);
            r.RawInputContents[0] = ByteString.CopyFrom(garbage);
            if (i % 3 == 0) r.RawInputContents.Add(ByteString.CopyFrom(garbage));
            malformed.Add(("garbage raw bytes", () => Infer(r)));
        }
        foreach (var dtype in new[] { "FP33", "BYTES", "", "fp32", "FP16" })
            for (int i = 0; i < 4; i++)
            {
                var r = TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]);
                r.Inputs[0].Datatype = dtype;
                malformed.Add(($"datatype '{dtype}'", () => Infer(r)));
            }
        foreach (var name in new[] { "../../etc/passwd", "", "a/b", new string('m', 5000), "deepclean-h1/../bbhnet", "%2e%2e" })
            for (int i = 0; i < 4; i++)
                malformed.Add(($"model name '{name[..Math.Min(20, name.Length)]}'", () => Infer(TestServer.RawRequest(name, "witness", x, [2, 3, 1024]))));
        foreach (var header in new Metadata?[] { new(), new() { { "authorization", "Bearer wrong" } }, new() { { "authorization", Token } }, new() { { "authorization", "Bearer " + Token + " " } } })
            for (int i = 0; i < 6; i++)
            {
                malformed.Add(("bad token infer", () => Infer(TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]), header)));
                if (i == 0) malformed.Add(("bad token live", () => s.Client.ServerLiveAsync(new ServerLiveRequest(), header).ResponseAsync));
            }
        Assert.True(malformed.Count >= 200, $"only {malformed.Count} malformed requests");

        var codes = new Dictionary<StatusCode, int>();
        foreach (var (what, call) in malformed)
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.Unauthenticated or StatusCode.ResourceExhausted, $"{what}: {e.StatusCode} {e.Status.Detail}");
            codes[e.StatusCode] = codes.GetValueOrDefault(e.StatusCode) + 1;
        }
        Assert.Equal(4 * 6 + 4, codes[StatusCode.Unauthenticated]);

        // Garbage at the gRPC framing level and through HTTP.
        using var h2 = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        for (int i = 0; i < 20; i++)
        {
            var payload = new byte[rng.Next(1, 3000)];
            rng.NextBytes(payload);
            var frame = new byte[5 + payload.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
            payload.CopyTo(frame, 5);
            using var req = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{s.Server.GrpcPort}/inference.GRPCInferenceService/ModelInfer")
            {
                Content = new ByteArrayContent(frame), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
            req.Headers.TryAddWithoutValidation("te", "trailers");
            req.Headers.TryAddWithoutValidation("authorization", "Bearer " + Token);
            using var resp = await h2.SendAsync(req);
            await resp.Content.ReadAsByteArrayAsync();
            string? status = resp.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First() : resp.Headers.TryGetValues("grpc-status", out var h) ? h.First() : null;
            Assert.True(status is not null, $"HTTP {(int)resp.StatusCode} {resp.Version} headers: {resp.Headers} trailers: {resp.TrailingHeaders}");
            Assert.NotEqual("0", status);
        }
        using var noToken = new HttpClient { BaseAddress = s.Http.BaseAddress };
        for (int i = 0; i < 10; i++)
        {
            var junk = Encoding.UTF8.GetString(Enumerable.Range(0, 200).Select(_ => (byte)rng.Next(32, 127)).ToArray());
            var bad = await s.Http.PostAsync("/v2/models/deepclean-h1/infer", new StringContent(junk));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await noToken.GetAsync("/v2/health/live")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient().GetAsync($"http://127.0.0.1:{s.Server.MetricsPort}/metrics")).StatusCode);

        var (updates, responses) = await streamTask;
        Assert.Equal(updates.Count, responses.Count);
        Assert.All(responses, r => Assert.Equal("", r.ErrorMessage));
        // The stream's last window is the last K samples it sent: state was carried through the whole abuse.
        var last = TestServer.Output(responses[^1].InferResponse, "witness");
        for (int c = 0; c < 3; c++)
            for (int t = 0; t < 64; t++)
                Assert.Equal(updates[^1][c * 64 + t], last[(1 * 3 + c) * 1024 + 1024 - 64 + t]);
        Assert.True((await s.Client.ServerLiveAsync(new ServerLiveRequest(), Auth)).Live);
    }
}
