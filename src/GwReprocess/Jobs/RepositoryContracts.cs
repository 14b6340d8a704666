using GwReprocess.Data;
using GwReprocess.Inference;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Jobs;

/// <summary>What a model repository on disk offers <c>gwrepro client</c>: each ensemble's streaming contract, and whether a workflow's detectors fit it.</summary>
public static class RepositoryContracts
{
    /// <summary>One line per ensemble of <paramref name="root"/>: its name, its contract (null when the client speaks none it offers) and what the client would send and read.</summary>
    public static async Task<IReadOnlyList<(string Ensemble, StreamContract? Contract, string Description)>> DescribeAsync(string root)
    {
        var result = new List<(string, StreamContract?, string)>();
        foreach (var name in ModelRepository.ModelNames(root))
        {
            ModelConfig config;
            try { config = ModelConfigFile.Read(Path.Combine(root, name, ModelConfigFile.FileName)); }
            catch (BadInputException) { continue; }
            if (config.Platform != ModelConfigs.EnsemblePlatform) continue;
            var contract = StreamLayout.ContractOf(config);
            string text;
            try
            {
                text = contract switch
                {
                    StreamContract.Hermes => await DescribeHermesAsync(root, config).ConfigureAwait(false),
                    StreamContract.Native => DescribeNative(config),
                    StreamContract.Detection => await DescribeDetectionAsync(root, config).ConfigureAwait(false),
                    _ => $"no streaming contract the client speaks (outputs: {string.Join(", ", config.Output.Select(o => o.Name))})",
                };
            }
            catch (BadInputException e) { text = "unusable: " + e.Message; }
            result.Add((name, contract, text));
        }
        return result;
    }

    /// <summary>
    /// Why the detectors cannot stream to the repository as a workflow would (its ensemble, or each detector's own), with their
    /// witnesses through <paramref name="highpass"/> (the workflow's <c>[cleaning] witness_highpass</c>), or null when they fit.
    /// </summary>
    public static async Task<string?> MisfitAsync(string root, string model,
        IReadOnlyList<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> detectors, Dsp.WitnessHighpass? highpass = null)
    {
        try
        {
            string first = detectors.All(d => d.Ensemble is not null) ? detectors[0].Ensemble! : model;
            var layout = await StreamLayout.FromConfigsAsync(Read(root, first), n => Task.FromResult(Read(root, n)), detectors).ConfigureAwait(false);
            return layout.HighpassMismatch(highpass);
        }
        catch (BadInputException e) { return e.Message; }
    }

    private static ModelConfig Read(string root, string name)
    {
        string path = Path.Combine(root, name, ModelConfigFile.FileName);
        if (!File.Exists(path)) throw new BadInputException($"model '{name}': not in the repository {root}");
        return ModelConfigFile.Read(path);
    }

    private static async Task<string> DescribeHermesAsync(string root, ModelConfig config)
    {
        var input = config.Input.Count == 1 ? config.Input[0] : throw new BadInputException($"model '{config.Name}': expected one streaming input, found {config.Input.Count}");
        int channels = input.Dims.Count == 3 ? (int)input.Dims[1] : 0;
        var witnesses = Enumerable.Range(0, channels).Select(i => new ChannelName($"X1:WITNESS_{i}")).ToList();
        var layout = await StreamLayout.FromConfigsAsync(config, n => Task.FromResult(Read(root, n)),
            [("X1", new ChannelName("X1:STRAIN"), witnesses, config.Name)]).ConfigureAwait(false);
        var h = layout.Detectors[0].Hermes!;
        string output = h.ServerAggregated
            ? $"'{h.Output}' [1, {layout.UpdateSamples}] averaged on the server over {h.AveragedWindows} windows (lags the input by {h.Lag} samples)"
            : $"'{h.Output}' [{layout.Batch}, {layout.Kernel}] averaged on the client";
        return $"hermes contract: one detector per sequence, '{h.InputName}' [1, {channels}, {layout.UpdateSamples}] of witnesses only (K = {layout.Kernel}, stride {layout.Stride}, B = {layout.Batch}); {output}";
    }

    private static async Task<string> DescribeDetectionAsync(string root, ModelConfig config)
    {
        int d = config.Input.Count == 1 && config.Input[0].Dims.Count == 3 ? (int)config.Input[0].Dims[1] : 0;
        var detectors = Enumerable.Range(0, Math.Max(1, d)).Select(i => ($"X{i + 1}", new ChannelName($"X{i + 1}:STRAIN"), (IReadOnlyList<ChannelName>)[], (string?)null)).ToList();
        var layout = await DetectionLayout.BuildAsync(config, n => Task.FromResult(Read(root, n)), detectors).ConfigureAwait(false);
        return $"detection contract (strain-only workflows): one sequence per job, '{layout.InputName}' [1, {layout.Channels}, {layout.UpdateSamples}] of the detectors' strains only " +
               $"(snapshot L = {layout.Kernel}, stride {layout.Stride}, B = {layout.Batch}); '{layout.ScoreOutput}' [{layout.Batch}, 1] on {(layout.ScoreDelay == 0 ? $"the last {layout.ScoreWindow} samples of each snapshot" : $"the {layout.ScoreWindow} samples ending {layout.ScoreDelay} before each snapshot's end")}; nothing cleaned";
    }

    private static string DescribeNative(ModelConfig config)
    {
        var noise = config.Output.Where(o => o.Name.StartsWith("noise_", StringComparison.Ordinal)).ToList();
        string dims = config.Input.Count == 1 ? $"[{string.Join(", ", config.Input[0].Dims)}]" : "?";
        return $"native contract: one sequence per job, '{(config.Input.Count == 1 ? config.Input[0].Name : "?")}' {dims} of every detector's witnesses then strains; " +
            $"{string.Join(", ", noise.Select(o => $"'{o.Name}' [{string.Join(", ", o.Dims)}]"))}{(config.Output.Any(o => o.Name == ModelContract.ScoreOutput) ? $", '{ModelContract.ScoreOutput}'" : "")}";
    }
}
