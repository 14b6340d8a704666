using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Server.Hosting;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Server.Tests;

/// <summary>A real server on loopback (ports 0) over a freshly built small repository, with a client generated from the same protos.</summary>
public sealed class TestServer : IAsyncDisposable
{
    /// <summary>Small stream geometry: 1024 Hz, K = 1024 (BBHnet's minimum), stride 32, B = 2, 3 witnesses per detector.</summary>
    public static readonly ModelRepositoryOptions SmallOptions = new()
    {
        SampleRate = 1024, KernelSeconds = 1, Stride = 32, Batch = 2, Witnesses = 3, SnapshotterInstances = 2,
    };

    private readonly GrpcChannel _channel;

    private TestServer(string repository, InferenceServer server, IReadOnlyList<RepositoryModel> models, string? token, List<string> log)
    {
        Log = log;
        Repository = repository;
        Server = server;
        Models = models;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}", new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        if (token is not null) Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };
        if (token is not null) Metrics.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }

    public string Repository { get; }

    public InferenceServer Server { get; }

    public IReadOnlyList<RepositoryModel> Models { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; }

    public HttpClient Http { get; }

    public HttpClient Metrics { get; }

    /// <summary>The server's log lines (lock it while reading).</summary>
    public List<string> Log { get; }

    public RepositoryModel Model(string name) => Models.Single(m => m.Name == name);

    /// <summary>Builds the repository (optionally changing configs first) and starts the server.</summary>
    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, Action<List<RepositoryModel>>? edit = null,
        ModelRepositoryOptions? options = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-server-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var models = ModelRepositoryBuilder.Build(options ?? SmallOptions).ToList();
        edit?.Invoke(models);
        await ModelRepository.WriteAsync(dir, models);
        var serverOptions = new ServerOptions { ModelRepository = dir, GrpcPort = 0, HttpPort = 0, MetricsPort = 0, IntraOpThreads = 1, InterOpThreads = 1 };
        if (configure is not null) serverOptions = configure(serverOptions);
        var log = new List<string>();
        var server = await InferenceServer.StartAsync(serverOptions, l => { lock (log) log.Add(l); }, CancellationToken.None);
        return new TestServer(dir, server, models, serverOptions.Token, log);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Metrics.Dispose();
        _channel.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Repository, recursive: true); } catch (IOException) { }
    }

    /// <summary>A request with one FP32 input as raw contents (the library's builder, as the client job uses it).</summary>
    /// <remarks>The shape is set as given even when it does not match the data: protocol and abuse tests send such requests on purpose.</remarks>
    public static ModelInferRequest RawRequest(string model, string input, float[] data, long[] shape, string id = "")
    {
        var r = InferRequests.Fp32(model, input, data, [data.Length], id);
        r.Inputs[0].Shape.Clear();
        r.Inputs[0].Shape.AddRange(shape);
        return r;
    }

    /// <summary>Adds tritonclient's sequence parameters (id, and always both flags).</summary>
    public static ModelInferRequest InSequence(ModelInferRequest r, long id, bool start, bool end) =>
        InferRequests.InSequence(r, checked((ulong)id), start, end);

    public static float[] Output(ModelInferResponse response, string name)
    {
        var values = InferRequests.TryOutput(response, name);
        Assert.True(values is not null, $"no output '{name}' in response of {response.ModelName}");
        return values;
    }

    public static float[] Signal(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Runs a model in process with ONNX Runtime (the reference for what the server returns).</summary>
    public static Dictionary<string, float[]> RunInProcess(RepositoryModel model, params (string Name, float[] Data, int[] Shape)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model.Onnx!.ToByteArray(), options);
        var values = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Shape))).ToList();
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    public static void Close(float[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance, $"max difference {worst:G3}");
    }

    public static async Task<RpcException> Fails(Func<Task> call)
    {
        return await Assert.ThrowsAsync<RpcException>(call);
    }
}

/// <summary>One server shared by the tests of a class (the repository build and model loads are the slow part).</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
