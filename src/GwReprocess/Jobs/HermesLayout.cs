using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Jobs;

/// <summary>Learns the hermes contract (ML4GW's DeepClean export) from the configs the server returns, one ensemble per detector.</summary>
/// <remarks>
/// hermes writes dims with the batch and no max_batch_size: the ensemble input is [1, C, B·stride] (witnesses only; the network
/// standardises inside), the snapshotter's output [B, C, K] gives B and K, and the aggregator's state holds
/// (B + num_updates − 1)·stride samples, from which num_updates, and so the output's lag of (num_updates − 1)·stride, follow.
/// Steps may be listed in any order (hermes lists them out of dependency order), so steps are found by the tensors they map.
/// </remarks>
internal static class HermesLayout
{
    /// <summary>The server-averaged output hermes's aggregator writes.</summary>
    public const string StreamOutput = "output_stream";

    /// <summary>The raw noise windows of an ensemble without an aggregator.</summary>
    public const string NoiseOutput = "noise";

    /// <param name="model">The workflow's ensemble, for detectors that name none.</param>
    /// <param name="ensemble">Its config, when already fetched.</param>
    /// <param name="configOf">Fetches a model's config (the server, or a repository on disk).</param>
    /// <param name="detectors">The workflow's detectors, each with the ensemble it names (or null for <paramref name="model"/>).</param>
    public static async Task<StreamLayout> BuildAsync(string model, ModelConfig? ensemble, Func<string, Task<ModelConfig>> configOf,
        IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors)
    {
        var streams = new List<DetectorStream>();
        var notes = new List<string>();
        int kernel = 0, stride = 0, batch = 0;
        string inputName = "";
        foreach (var (ifo, strain, witnesses, named) in detectors)
        {
            string name = named ?? model;
            var config = ensemble is not null && name == ensemble.Name ? ensemble : await configOf(name).ConfigureAwait(false);
            var (stream, k, s, b, scaling) = await DetectorAsync(ifo, witnesses, config, configOf).ConfigureAwait(false);
            if (streams.Count > 0 && (k != kernel || s != stride || b != batch))
                throw new BadInputException($"model '{name}': {ifo} streams with K = {k}, stride {s}, B = {b}, unlike K = {kernel}, stride {stride}, B = {batch} of {streams[0].Ifo} ('{streams[0].Hermes!.Model}'); one job streams every detector on one grid");
            if (streams.FirstOrDefault(x => x.Hermes!.Model == name) is { } other)
                notes.Add($"{other.Ifo} and {ifo} stream to the same ensemble '{name}': each sequence takes a slot of its stateful models (hermes writes one instance per stream)");
            (kernel, stride, batch, inputName) = (k, s, b, stream.InputName);
            streams.Add(new DetectorStream(ifo, strain, witnesses, scaling, stream.Output, stream));
        }
        int channels = streams.Sum(d => d.Witnesses.Count) + streams.Count;
        return new StreamLayout(string.Join("+", streams.Select(d => d.Hermes!.Model).Distinct()), inputName, kernel, stride, batch, channels, streams, null, notes)
        {
            Contract = StreamContract.Hermes,
        };
    }

    private static async Task<(HermesStream Stream, int Kernel, int Stride, int Batch, IReadOnlyList<ChannelScaling> Scaling)> DetectorAsync(string ifo,
        IReadOnlyList<ChannelName> witnessNames, ModelConfig e, Func<string, Task<ModelConfig>> configOf)
    {
        int witnesses = witnessNames.Count;
        string name = e.Name;
        if (e.Input.Count != 1)
            throw new BadInputException($"model '{name}': expected one streaming input (hermes: snapshot_update [1, C, B·stride]), found {e.Input.Count}");
        var input = e.Input[0];
        var dims = input.Dims.ToArray();
        if (dims.Length != 3 || dims[0] != 1 || dims[1] <= 0 || dims[2] <= 0)
            throw new BadInputException($"model '{name}': input '{input.Name}' has dims [{string.Join(", ", dims)}], expected [1, C, B·stride]");
        if (dims[1] != witnesses)
            throw new BadInputException($"model '{name}': input '{input.Name}' takes {dims[1]} channels; the workflow lists {witnesses} witnesses for {ifo} (the hermes contract sends witnesses only, strain stays on the client)");
        int update = (int)dims[2];

        var steps = e.EnsembleScheduling?.Step.ToList()
            ?? throw new BadInputException($"model '{name}': not an ensemble (platform '{e.Platform}'); the hermes contract streams to snapshotter → network → aggregator ensembles");
        var snapStep = steps.FirstOrDefault(s => s.InputMap.Values.Contains(input.Name))
            ?? throw new BadInputException($"model '{name}': no step takes the ensemble input '{input.Name}'");
        var snapshotter = await configOf(snapStep.ModelName).ConfigureAwait(false);
        if (snapshotter.SequenceBatching is not { State.Count: > 0 })
            throw new BadInputException($"model '{snapshotter.Name}': takes '{input.Name}' but keeps no implicit state (sequence_batching.state): not a hermes snapshotter");
        var window = snapshotter.Output.FirstOrDefault()
            ?? throw new BadInputException($"model '{snapshotter.Name}': has no output");
        var wd = window.Dims.ToArray();
        if (wd.Length is not (2 or 3) || wd[0] <= 0 || wd[^1] <= 0)
            throw new BadInputException($"model '{snapshotter.Name}': output '{window.Name}' has dims [{string.Join(", ", wd)}], expected [B, C, K]");
        int batch = (int)wd[0], kernel = (int)wd[^1];
        if (update % batch != 0)
            throw new BadInputException($"model '{name}': an update of {update} samples is not a whole number of strides for B = {batch} ('{snapshotter.Name}' output '{window.Name}')");
        int stride = update / batch;
        if (stride >= kernel)
            throw new BadInputException($"model '{snapshotter.Name}': stride {stride} is not shorter than the window K = {kernel}");
        var scaling = await ScalingAsync(ifo, witnessNames, steps, snapStep, configOf).ConfigureAwait(false);

        if (e.Output.FirstOrDefault(o => o.Name == StreamOutput) is { } averaged)
        {
            var od = averaged.Dims.ToArray();
            if (od.Length != 2 || od[0] != 1 || od[1] != update)
                throw new BadInputException($"model '{name}': output '{StreamOutput}' has dims [{string.Join(", ", od)}], expected [1, {update}] (one value per input sample)");
            var aggStep = steps.FirstOrDefault(s => s.OutputMap.Values.Contains(StreamOutput))
                ?? throw new BadInputException($"model '{name}': no step produces '{StreamOutput}'");
            var aggregator = await configOf(aggStep.ModelName).ConfigureAwait(false);
            if (aggregator.SequenceBatching is not { State.Count: 1 } sb)
                throw new BadInputException($"model '{aggregator.Name}': produces '{StreamOutput}' but keeps no single implicit state: not a hermes aggregator");
            long state = sb.State[0].Dims.LastOrDefault();
            // hermes's OnlineAverager keeps (B + num_updates − 1)·stride samples of partial averages.
            if (state <= 0 || state % stride != 0 || state / stride - batch + 1 < 1 || (state / stride - batch + 1) * stride > kernel)
                throw new BadInputException($"model '{aggregator.Name}': state '{sb.State[0].InputName}' of {state} samples is not (B + num_updates − 1)·stride for B = {batch}, stride {stride} and num_updates·stride ≤ K = {kernel}");
            int updates = (int)(state / stride) - batch + 1;
            return (new HermesStream(name, input.Name, StreamOutput, true, updates, (updates - 1) * stride), kernel, stride, batch, scaling);
        }
        if (e.Output.FirstOrDefault(o => o.Name == NoiseOutput) is { } raw)
        {
            var od = raw.Dims.ToArray();
            if (od.Length != 2 || od[0] != batch || od[1] != kernel)
                throw new BadInputException($"model '{name}': output '{NoiseOutput}' has dims [{string.Join(", ", od)}], expected [{batch}, {kernel}] (B windows of K samples)");
            return (new HermesStream(name, input.Name, NoiseOutput, false, 0, 0), kernel, stride, batch, scaling);
        }
        throw new BadInputException($"model '{name}': no output '{StreamOutput}' [1, {update}] or '{NoiseOutput}' [{batch}, {kernel}] for {ifo} (outputs: {string.Join(", ", e.Output.Select(o => o.Name))})");
    }

    /// <summary>The witnesses' scaling: identity (hermes's network standardises inside), unless the network stores its own (GwReprocess's Wiener cleaners), which the client then applies.</summary>
    private static async Task<IReadOnlyList<ChannelScaling>> ScalingAsync(string ifo, IReadOnlyList<ChannelName> witnesses, List<ModelEnsembling.Types.Step> steps,
        ModelEnsembling.Types.Step snapshotter, Func<string, Task<ModelConfig>> configOf)
    {
        var identity = witnesses.Select(_ => ChannelScaling.Identity).ToList();
        var windows = snapshotter.OutputMap.Values.ToHashSet(StringComparer.Ordinal);
        if (steps.FirstOrDefault(s => s.InputMap.Values.Any(windows.Contains)) is not { } step) return identity;
        var network = await configOf(step.ModelName).ConfigureAwait(false);
        if (WienerCleaner.FromConfig(network) is not { } stored) return identity;
        if (stored.Channels.Count != witnesses.Count)
            throw new BadInputException($"model '{network.Name}': takes {stored.Channels.Count} witness channels, the workflow lists {witnesses.Count} for {ifo}");
        for (int c = 0; c < witnesses.Count; c++)
            if (stored.Channels[c] != witnesses[c])
                throw new BadInputException($"model '{network.Name}': witness {c} is {stored.Channels[c]}, the workflow lists {witnesses[c]} there (channel order must match the model's)");
        return stored.Scaling;
    }
}
