using GwReprocess.Data;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Jobs;

/// <summary>Learns the detection-only contract (strain-only workflows) from the configs the server returns, and refuses a workflow and an ensemble that do not go together.</summary>
/// <remarks>
/// The ensemble takes <c>[1, D, B·stride]</c> of the D strains in workflow detector order and returns only <c>score</c> [B, 1].
/// Its snapshotter (the step fed from the ensemble input) may hold a longer state than the window the detector scores
/// (background for a whitener that estimates the PSD, then the kernel): the snapshot length L, from the snapshotter's
/// output [B, D, L], is what the job's padding must hold; the scored window K, the last K samples of the snapshot, from
/// the scoring step's input [B, D, K], is what a score file's <c>window_seconds</c> records. Snapshot j of the stream ends at
/// sample (j+1)·stride whatever L and K are (<see cref="Snapshotter"/>); its scored window ends the whitener's <c>window_delay</c>
/// (a whole number of strides) before that, and the score is placed there.
/// </remarks>
internal static class DetectionLayout
{
    /// <summary>Why <paramref name="detectors"/> cannot stream to <paramref name="ensemble"/> as far as witnesses go (all or nothing), or null when they can.</summary>
    public static string? Misfit(ModelConfig ensemble, IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors)
    {
        var contract = StreamLayout.ContractOf(ensemble);
        var with = detectors.Where(d => d.Witnesses.Count > 0).Select(d => d.Ifo).ToList();
        var without = detectors.Where(d => d.Witnesses.Count == 0).Select(d => d.Ifo).ToList();
        if (contract == StreamContract.Detection)
        {
            if (with.Count > 0)
                return $"model '{ensemble.Name}' is detection-only ({Offer(ensemble)}): the workflow lists witnesses for {string.Join(", ", with)}; stream a strain-only workflow (no witnesses) to it, or name a cleaning ensemble";
            return null;
        }
        if (with.Count == 0)
            return $"model '{ensemble.Name}' {(contract is { } c ? $"cleans ({c.ToString().ToLowerInvariant()} contract: {Offer(ensemble)})" : $"is not detection-only ({Offer(ensemble)})")}: " +
                   $"the workflow's detectors list no witnesses, and a strain-only workflow needs a detection-only ensemble (input [1, {detectors.Count}, B·stride] of the strains, output '{ModelContract.ScoreOutput}' only)";
        if (without.Count > 0)
            return $"detectors {string.Join(", ", without)} list no witnesses while {string.Join(", ", with)} do: a workflow either cleans (every detector lists its witnesses) or is strain-only (none does: scores only, with a detection-only ensemble)";
        return null;
    }

    /// <summary>Why a strain-only workflow cannot name per-detector ensembles, or null when <paramref name="detectors"/> is not strain-only or names none.</summary>
    public static string? OwnEnsembleMisfit(IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors)
    {
        if (detectors.Any(d => d.Witnesses.Count > 0)) return null;
        foreach (var d in detectors)
            if (d.Ensemble is not null)
                return $"detectors.{d.Ifo}.ensemble '{d.Ensemble}': a strain-only workflow (no witnesses) streams every detector together to [inference] ensemble, a detection-only one; a detector's own ensemble is for cleaning under the hermes contract";
        return null;
    }

    /// <summary>The layout of a detection-only <paramref name="ensemble"/> for strain-only <paramref name="detectors"/> (already checked by <see cref="Misfit"/>).</summary>
    public static async Task<StreamLayout> BuildAsync(ModelConfig ensemble, Func<string, Task<ModelConfig>> configOf,
        IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors)
    {
        string model = ensemble.Name;
        if (ensemble.Input.Count != 1)
            throw new BadInputException($"model '{model}': expected one streaming input, found {ensemble.Input.Count}");
        var input = ensemble.Input[0];
        var dims = input.Dims.ToArray();
        if (dims.Length != 3 || dims[0] != 1 || dims[1] <= 0 || dims[2] <= 0)
            throw new BadInputException($"model '{model}': input '{input.Name}' has dims [{string.Join(", ", dims)}], expected [1, D, B·stride]");
        if (dims[1] != detectors.Count)
            throw new BadInputException($"model '{model}': input '{input.Name}' takes {dims[1]} channels; the workflow's detectors give {detectors.Count} strains ({string.Join(", ", detectors.Select(d => d.Ifo))})");
        var score = ensemble.Output.First(o => o.Name == ModelContract.ScoreOutput);
        var sd = score.Dims.ToArray();
        if (sd.Length != 2 || sd[0] <= 0 || sd[1] != 1)
            throw new BadInputException($"model '{model}': output '{score.Name}' has dims [{string.Join(", ", sd)}], expected [B, 1]");
        int batch = (int)sd[0], update = (int)dims[2];
        if (update % batch != 0) throw new BadInputException($"model '{model}': update of {update} samples is not a whole number of strides for B = {batch}");
        int stride = update / batch;

        var steps = ensemble.EnsembleScheduling?.Step.ToList() ?? [];
        var snapshotter = steps.FirstOrDefault(s => s.InputMap.Values.Contains(input.Name))
            ?? throw new BadInputException($"model '{model}': no step reads the input '{input.Name}', so the snapshot length is unknown");
        int snapshot = await WindowOfAsync(snapshotter.ModelName, configOf, outputs: true).ConfigureAwait(false)
            ?? throw new BadInputException($"model '{snapshotter.ModelName}': no output [B, D, L] gives the snapshot length L of ensemble '{model}'");
        if (stride > snapshot) throw new BadInputException($"model '{model}': stride {stride} samples is longer than the snapshot of {snapshot}");
        // The scored window: the scoring step's input; a detector that takes the snapshot itself scores all of it.
        var scorer = steps.FirstOrDefault(s => s.OutputMap.Values.Contains(score.Name));
        int window = scorer is null ? snapshot : await WindowOfAsync(scorer.ModelName, configOf, outputs: false).ConfigureAwait(false) ?? snapshot;
        if (window > snapshot) throw new BadInputException($"model '{model}': the scored window of {window} samples is longer than the snapshot of {snapshot}");

        // A whitener feeding the scorer may whiten a window that ends before the snapshot does (its window_delay).
        int delay = 0;
        if (scorer is not null)
            foreach (var tensor in scorer.InputMap.Values)
                if (steps.FirstOrDefault(st => st.OutputMap.Values.Contains(tensor)) is { } producer
                    && (await configOf(producer.ModelName).ConfigureAwait(false)).Parameters.TryGetValue(StreamWhitener.DelayParameter, out var p))
                {
                    if (!int.TryParse(p.StringValue, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out delay) || delay < 0 || delay % stride != 0 || delay + window > snapshot)
                        throw new BadInputException($"model '{producer.ModelName}': {StreamWhitener.DelayParameter} '{p.StringValue}' must be a whole number of {stride}-sample strides that leaves the {window}-sample window inside the snapshot of {snapshot}");
                }

        var streams = detectors.Select(d => new DetectorStream(d.Ifo, d.Strain, [], [], "")).ToList();
        return new StreamLayout(model, input.Name, snapshot, stride, batch, detectors.Count, streams, score.Name, [])
        {
            Contract = StreamContract.Detection,
            ScoreWindow = window,
            ScoreDelay = delay,
        };
    }

    /// <summary>The last dim of the first [B, C, N] tensor among a model's outputs (or inputs), or null when it has none.</summary>
    private static async Task<int?> WindowOfAsync(string name, Func<string, Task<ModelConfig>> configOf, bool outputs)
    {
        var config = await configOf(name).ConfigureAwait(false);
        var tensors = outputs ? config.Output.Select(o => o.Dims) : config.Input.Select(i => i.Dims);
        foreach (var d in tensors)
            if (d.Count == 3 && d[2] > 0) return (int)d[2];
        return null;
    }

    /// <summary>What an ensemble offers, for errors: its input and outputs with their dims.</summary>
    internal static string Offer(ModelConfig ensemble) =>
        $"input {string.Join(", ", ensemble.Input.Select(i => $"'{i.Name}' [{string.Join(", ", i.Dims)}]"))}; " +
        $"output{(ensemble.Output.Count == 1 ? "" : "s")} {string.Join(", ", ensemble.Output.Select(o => $"'{o.Name}' [{string.Join(", ", o.Dims)}]"))}";
}
