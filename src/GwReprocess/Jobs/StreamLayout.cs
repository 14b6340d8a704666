using Grpc.Core;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Inference;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Jobs;

/// <summary>What the ensemble expects and returns, learned from the server (ModelConfig RPC), so the client works unchanged against tritonserver.</summary>
/// <param name="Model">The ensemble.</param>
/// <param name="InputName">Its streaming input.</param>
/// <param name="Kernel">K, samples per window.</param>
/// <param name="Stride">Samples between windows (fs / r).</param>
/// <param name="Batch">B, windows per request.</param>
/// <param name="Channels">C of the update <c>[1, C, B·stride]</c>.</param>
/// <param name="Detectors">Detectors in stream order.</param>
/// <param name="Notes">Things worth telling the user (e.g. a cleaner without stored scaling).</param>
/// <param name="ScoreOutput">The detection score output, or null when the ensemble has none.</param>
public sealed record StreamLayout(string Model, string InputName, int Kernel, int Stride, int Batch, int Channels,
    IReadOnlyList<DetectorStream> Detectors, string? ScoreOutput, IReadOnlyList<string> Notes)
{
    /// <summary>The contract the server's ensemble(s) offer; under <see cref="StreamContract.Hermes"/> each detector streams on its own (<see cref="DetectorStream.Hermes"/>).</summary>
    public StreamContract Contract { get; init; } = StreamContract.Native;

    /// <summary>
    /// The contract an ensemble config offers: native when it has <c>noise_&lt;ifo&gt;</c> outputs, hermes when it has <c>output_stream</c> or <c>noise</c>,
    /// detection when it has <c>score</c> and no noise output (the client reads only <c>score</c>); null when none.
    /// </summary>
    public static StreamContract? ContractOf(ModelConfig ensemble)
    {
        if (ensemble.Output.Any(o => o.Name.StartsWith("noise_", StringComparison.Ordinal))) return StreamContract.Native;
        if (ensemble.Output.Any(o => o.Name is HermesLayout.StreamOutput or HermesLayout.NoiseOutput)) return StreamContract.Hermes;
        if (ensemble.Output.Any(o => o.Name == ModelContract.ScoreOutput)) return StreamContract.Detection;
        return null;
    }

    /// <summary>True under <see cref="StreamContract.Detection"/>: strains in, scores out, nothing cleaned and no frames written.</summary>
    public bool DetectionOnly => Contract == StreamContract.Detection;

    /// <summary>Samples of the window each score is computed on, ending <see cref="ScoreDelay"/> before the snapshot's end; K itself except under <see cref="StreamContract.Detection"/>, whose snapshot may hold background before it.</summary>
    public int ScoreWindow
    {
        get => _scoreWindow ?? Kernel;
        init => _scoreWindow = value;
    }

    private readonly int? _scoreWindow;

    /// <summary>
    /// Samples the scored window ends before the snapshot's newest sample (a stream whitener's <c>window_delay</c>: its FIR needs real
    /// samples after the window), a whole number of strides; 0 when the window ends with the snapshot.
    /// </summary>
    public int ScoreDelay { get; init; }

    /// <summary>
    /// Each cleaner of the ensemble that records its witnesses (<see cref="WienerCleaner.ChannelsParameter"/>) with the high-pass its
    /// witnesses went through when it was fitted or trained (null: none); empty when none records them (then nothing is known to check).
    /// </summary>
    public IReadOnlyList<(string Model, WitnessHighpass? Highpass)> FittedHighpass { get; init; } = [];

    /// <summary>Why a stream whose witnesses go through <paramref name="highpass"/> would not feed the cleaners what they were fitted on, or null when it would.</summary>
    public string? HighpassMismatch(WitnessHighpass? highpass)
    {
        foreach (var (name, fitted) in FittedHighpass)
            if (fitted != highpass)
                return $"model '{name}' was fitted on witnesses {Describe(fitted)}, the workflow's [cleaning] witness_highpass gives {Describe(highpass)} (they must match: refit the models or change the workflow)";
        return null;

        static string Describe(WitnessHighpass? h) => h is null ? "without a high-pass" : $"high-passed at {h}";
    }

    /// <summary>Samples of each channel per update.</summary>
    public int UpdateSamples => Batch * Stride;

    /// <summary>Every output the client reads.</summary>
    public IReadOnlyList<string> OutputNames => DetectionOnly ? [ScoreOutput!]
        : [.. Detectors.Select(d => d.NoiseOutput), .. ScoreOutput is null ? Array.Empty<string>() : [ScoreOutput]];

    /// <summary>Channel names in update order: each detector's witnesses in detector order, then the strains (the gwe2e snapshotter's split).</summary>
    public IReadOnlyList<ChannelName> ChannelOrder => [.. Detectors.SelectMany(d => d.Witnesses), .. Detectors.Select(d => d.Strain)];

    /// <summary>Scaling per channel in <see cref="ChannelOrder"/>; strain goes in unscaled (the cleaners and postproc work in strain units).</summary>
    public IReadOnlyList<ChannelScaling> Scaling => [.. Detectors.SelectMany(d => d.WitnessScaling), .. Detectors.Select(_ => ChannelScaling.Identity)];

    /// <summary>Asks the server for the ensemble's config and its cleaners' configs, and checks them against the workflow's detectors.</summary>
    /// <remarks>A detector naming its own ensemble (<c>[detectors.XX] ensemble</c>) streams to it under the hermes contract; so do all detectors when <paramref name="model"/> offers it.</remarks>
    public static async Task<StreamLayout> DiscoverAsync(InferenceEndpoint endpoint, string model,
        IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors, CancellationToken ct)
    {
        using var channel = endpoint.CreateChannel();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var headers = endpoint.Headers();
        async Task<ModelConfig> ConfigAsync(string name)
        {
            try { return (await client.ModelConfigAsync(new ModelConfigRequest { Name = name }, headers, cancellationToken: ct)).Config; }
            catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                throw new BadInputException($"{endpoint.Address}: model '{name}': {e.Status.Detail}");
            }
            catch (RpcException e)
            {
                throw new InferenceStreamException($"{endpoint.Address}: ModelConfig '{name}': {e.StatusCode}: {e.Status.Detail}", true, e.StatusCode, e);
            }
        }
        if (DetectionLayout.OwnEnsembleMisfit(detectors) is { } own) throw new BadInputException(own);
        if (detectors.All(d => d.Ensemble is not null)) return await HermesLayout.BuildAsync(model, null, ConfigAsync, detectors).ConfigureAwait(false);
        var ensemble = await ConfigAsync(model);
        return await FromConfigsAsync(ensemble, ConfigAsync, detectors).ConfigureAwait(false);
    }

    /// <summary>Builds the layout from an ensemble config and a way to fetch its steps' configs (the server, or a repository on disk).</summary>
    public static async Task<StreamLayout> FromConfigsAsync(ModelConfig ensemble, Func<string, Task<ModelConfig>> configOf,
        IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors)
    {
        string model = ensemble.Name;
        if (DetectionLayout.OwnEnsembleMisfit(detectors) is { } own) throw new BadInputException(own);
        // All or nothing: witnesses for every detector against a cleaning ensemble, or for none against a detection-only one.
        if (detectors.All(d => d.Ensemble is null))
        {
            if (DetectionLayout.Misfit(ensemble, detectors) is { } misfit) throw new BadInputException(misfit);
            if (ContractOf(ensemble) == StreamContract.Detection) return await DetectionLayout.BuildAsync(ensemble, configOf, detectors).ConfigureAwait(false);
        }
        if (detectors.Any(d => d.Ensemble is not null) || ContractOf(ensemble) == StreamContract.Hermes)
            return await HermesLayout.BuildAsync(model, ensemble, configOf, detectors).ConfigureAwait(false);
        if (ensemble.Input.Count != 1)
            throw new BadInputException($"model '{model}': expected one streaming input, found {ensemble.Input.Count}");
        var input = ensemble.Input[0];
        var dims = input.Dims.ToArray();
        if (dims.Length != 3 || dims[0] != 1 || dims[1] <= 0 || dims[2] <= 0)
            throw new BadInputException($"model '{model}': input '{input.Name}' has dims [{string.Join(", ", dims)}], expected [1, C, B·stride]");
        int channels = (int)dims[1], update = (int)dims[2];
        var notes = new List<string>();

        var streams = new List<DetectorStream>();
        int kernel = 0, batch = 0;
        foreach (var (ifo, strain, witnesses, _) in detectors)
        {
            string noise = "noise_" + ifo.ToLowerInvariant();
            var output = ensemble.Output.FirstOrDefault(o => o.Name == noise)
                ?? throw new BadInputException($"model '{model}': no output '{noise}' for detector {ifo} (outputs: {string.Join(", ", ensemble.Output.Select(o => o.Name))})");
            var od = output.Dims.ToArray();
            if (od.Length != 2 || od[0] <= 0 || od[1] <= 0) throw new BadInputException($"model '{model}': output '{noise}' has dims [{string.Join(", ", od)}], expected [B, K]");
            if (kernel != 0 && (od[0] != batch || od[1] != kernel)) throw new BadInputException($"model '{model}': output '{noise}' has dims [{string.Join(", ", od)}], unlike [{batch}, {kernel}] of the others");
            batch = (int)od[0];
            kernel = (int)od[1];

            // The cleaner is the step fed from this detector's witness block; its config carries the channel order and scaling.
            // The noise may come from a step after it (a sum of a linear and a trained cleaner): walk back to the first that stores them.
            var steps = ensemble.EnsembleScheduling?.Step.ToList() ?? [];
            var step = steps.FirstOrDefault(s => s.OutputMap.Values.Contains(noise));
            IReadOnlyList<ChannelScaling> scaling = witnesses.Select(_ => ChannelScaling.Identity).ToList();
            if (step is not null)
            {
                var cleaner = await configOf(step.ModelName).ConfigureAwait(false);
                var found = WienerCleaner.FromConfig(cleaner);
                var pending = new Queue<string>(step.InputMap.Values);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (found is null && pending.TryDequeue(out var tensor))
                {
                    if (!seen.Add(tensor) || steps.FirstOrDefault(s => s.OutputMap.Values.Contains(tensor)) is not { } producer) continue;
                    var candidate = await configOf(producer.ModelName).ConfigureAwait(false);
                    if ((found = WienerCleaner.FromConfig(candidate)) is not null) cleaner = candidate;
                    else foreach (var t in producer.InputMap.Values) pending.Enqueue(t);
                }
                if (found is { } stored)
                {
                    if (stored.Channels.Count != witnesses.Count)
                        throw new BadInputException($"model '{cleaner.Name}': takes {stored.Channels.Count} witness channels, the workflow lists {witnesses.Count} for {ifo}");
                    for (int c = 0; c < witnesses.Count; c++)
                        if (stored.Channels[c] != witnesses[c])
                            throw new BadInputException($"model '{cleaner.Name}': witness {c} is {stored.Channels[c]}, the workflow lists {witnesses[c]} there (channel order must match the model's)");
                    scaling = stored.Scaling;
                }
                else notes.Add($"{cleaner.Name} stores no witness scaling ({WienerCleaner.ScalingParameter}); {ifo} witnesses are sent unscaled");
            }
            streams.Add(new DetectorStream(ifo, strain, witnesses, scaling, noise));
        }
        if (update % batch != 0) throw new BadInputException($"model '{model}': update of {update} samples is not a whole number of strides for B = {batch}");
        int stride = update / batch;
        int expected = streams.Sum(s => s.Witnesses.Count) + streams.Count;
        if (channels != expected)
            throw new BadInputException($"model '{model}': input '{input.Name}' takes {channels} channels; the workflow's detectors give {expected} ({string.Join(" + ", streams.Select(s => $"{s.Witnesses.Count} {s.Ifo} witnesses"))} + {streams.Count} strains)");
        string? score = ensemble.Output.FirstOrDefault(o => o.Name == ModelContract.ScoreOutput)?.Name;
        return new StreamLayout(model, input.Name, kernel, stride, batch, channels, streams, score, notes)
        {
            FittedHighpass = await FittedHighpassAsync(ensemble, configOf).ConfigureAwait(false),
        };
    }

    /// <summary>Every step of the ensemble that records its witnesses, with the high-pass it records (the Wiener and a trained cleaner beside it may both feed outputs).</summary>
    private static async Task<IReadOnlyList<(string, WitnessHighpass?)>> FittedHighpassAsync(ModelConfig ensemble, Func<string, Task<ModelConfig>> configOf)
    {
        var result = new List<(string, WitnessHighpass?)>();
        foreach (var name in (ensemble.EnsembleScheduling?.Step.Select(s => s.ModelName) ?? []).Distinct(StringComparer.Ordinal))
        {
            var config = await configOf(name).ConfigureAwait(false);
            if (config.Parameters.ContainsKey(WienerCleaner.ChannelsParameter)) result.Add((name, WienerCleaner.HighpassOf(config)));
        }
        return result;
    }
}
