using Inference;

namespace GwReprocess.Models;

/// <summary>Builds the models of the repository: snapshotters, cleaners per detector, postproc, detector, and the gwe2e / deepclean-stream ensembles.</summary>
/// <remarks>
/// gwe2e: <c>snapshot_update [1, D·C_w + D, B·s]</c> (witnesses of each detector in detector order, then the D strains)
/// → snapshotter → <c>&lt;cleaner&gt;-&lt;det&gt;</c> per detector → postproc (strain − noise, FIR) → detector; outputs
/// <c>noise_&lt;det&gt; [B, K]</c> and <c>score [B, 1]</c>. deepclean-stream: the first detector's witnesses
/// <c>[1, C_w, B·s]</c> → snapshotter-stream → that detector's cleaner; output <c>noise [B, K]</c>. With stream whitening,
/// the strain-only repository of <see cref="StrainOnlyRepository"/> instead.
/// </remarks>
public static class ModelRepositoryBuilder
{
    public const string Snapshotter = "snapshotter";
    public const string StreamSnapshotter = "snapshotter-stream";
    public const string Postproc = "postproc";
    public const string EndToEnd = "gwe2e";
    public const string CleanerStream = "deepclean-stream";
    public const string Whitener = "whitener";
    public const string Search = "search";

    /// <summary>Name of the cleaner model for <paramref name="detector"/>, e.g. deepclean-h1.</summary>
    public static string CleanerName(CleanerKind cleaner, string detector) =>
        $"{(cleaner == CleanerKind.DeepClean ? "deepclean" : "wiener")}-{detector.ToLowerInvariant()}";

    /// <summary>Name of the detector model.</summary>
    public static string DetectorName(DetectorKind detector) => detector == DetectorKind.BbhNet ? "bbhnet" : "bbh-templates";

    public static IReadOnlyList<RepositoryModel> Build(ModelRepositoryOptions o)
    {
        if (o.Whitening == WhiteningMode.Stream) return StrainOnlyRepository.Build(o);
        if (o.Cleaner == CleanerKind.Wiener && o.WienerFilters is null)
            throw new BadInputException("--cleaner wiener needs fitted coefficients: give --fit FRAMES --start --end --workflow W.toml");
        if (o.Detector == DetectorKind.Templates && o.Templates is null)
            throw new BadInputException("--detector templates needs a designed, calibrated bank: give --cleaner wiener --fit FRAMES --start --end --workflow W.toml");
        if (o.Witnesses < 1) throw new BadInputException($"--witnesses {o.Witnesses} must be at least 1");
        if (o.Instances < 1 || o.SnapshotterInstances < 1) throw new BadInputException("instance counts must be at least 1");
        if (o.Detectors.Count == 0) throw new BadInputException("at least one detector is needed");
        if (o.Detector == DetectorKind.BbhNet && o.Detectors.Count != 2) throw new BadInputException($"BBHnet takes exactly two detectors (H1, L1), not {o.Detectors.Count}");
        if (o.Precision == ModelPrecision.Fp16 && o.InstanceKind == ModelInstanceGroup.Types.Kind.Cpu)
            throw new BadInputException("--precision fp16 is for GPU instances: with --kind cpu build fp32 (ONNX Runtime's CPU provider has few float16 kernels and would run slower, not faster)");
        int k = o.Kernel, b = o.Batch, s = o.Stride, cw = o.Witnesses;
        var dets = o.Detectors;

        var models = new List<RepositoryModel>();
        var split = dets.Select(d => new SnapshotterOutput($"witness_{d.ToLowerInvariant()}", cw)).ToList();
        split.Add(new SnapshotterOutput("strain", dets.Count));
        models.Add(Models.Snapshotter.Build(Snapshotter, k, s, b, split, o.SnapshotterInstances, o.InstanceKind));
        models.Add(Models.Snapshotter.Build(StreamSnapshotter, k, s, b, [new SnapshotterOutput("witness", cw)], o.SnapshotterInstances, o.InstanceKind));

        for (int i = 0; i < dets.Count; i++)
        {
            string cleaner = CleanerName(o.Cleaner, dets[i]);
            if (o.Cleaner == CleanerKind.DeepClean)
                models.Add(DeepCleanNetwork.Build(cleaner, cw, k, b, o.Seed + i, o.Instances, o.InstanceKind));
            else if (o.WienerFilters!.TryGetValue(dets[i], out var fir) && fir.Channels == cw)
                models.Add(WienerFilterNetwork.Build(cleaner, fir, k, b, o.Instances, o.InstanceKind));
            else
                throw new BadInputException($"{cleaner}: no Wiener coefficients for {dets[i]} with {cw} witness channels");
        }

        var taps = o.WhiteningTaps ?? dets.Select(_ => new[] { 1f }).ToList();
        models.Add(Postprocessor.Build(Postproc, dets, k, b, taps, o.WhiteningTaps is null ? "identity (no reference ASD given)" : o.WhiteningDescription, o.Instances, o.InstanceKind));
        models.Add(o.Detector == DetectorKind.BbhNet
            ? BbhNetNetwork.Build(DetectorName(o.Detector), k, b, o.Seed + 100, o.Instances, o.InstanceKind)
            : TemplateBankNetwork.Build(DetectorName(o.Detector), o.Templates!, dets.Count, k, b, o.Instances, o.InstanceKind));

        if (o.Precision == ModelPrecision.Fp16)
            for (int i = 0; i < models.Count; i++)
                if (models[i].Name == DetectorName(DetectorKind.BbhNet) || (o.Cleaner == CleanerKind.DeepClean && models[i].Name.StartsWith("deepclean-", StringComparison.Ordinal)))
                    models[i] = ToFloat16(models[i]);

        models.Add(EndToEndEnsemble(o, models));
        models.Add(CleanerStreamEnsemble(o, models));
        return models;
    }

    /// <summary>Precision parameter a float16 network's config carries (Triton passes parameters through; readers see it in ModelConfig).</summary>
    public const string PrecisionParameter = "precision";

    /// <summary>The network with float16 weights and compute behind its float32 inputs and outputs; its config says so.</summary>
    internal static RepositoryModel ToFloat16(RepositoryModel model)
    {
        var config = model.Config.Clone();
        config.Parameters[PrecisionParameter] = new ModelParameter { StringValue = "fp16" };
        string description = config.Parameters.TryGetValue("description", out var d) ? d.StringValue : "";
        config.Parameters["description"] = new ModelParameter { StringValue = description + "; FP16: float16 weights and compute, float32 inputs and outputs (GPU instances)" };
        return model with { Config = config, Onnx = Onnx.Float16Conversion.Convert(model.Onnx!) };
    }

    private static RepositoryModel EndToEndEnsemble(ModelRepositoryOptions o, IReadOnlyList<RepositoryModel> models)
    {
        var snap = models.Single(m => m.Name == Snapshotter).Config;
        var ens = NewEnsemble(EndToEnd, $"gwe2e: snapshotter -> {o.Cleaner} per detector ({string.Join(", ", o.Detectors)}) -> postproc -> {DetectorName(o.Detector)}");
        ens.Input.Add(snap.Input[0].Clone());
        var step = Step(Snapshotter, (ModelContract.SnapshotUpdate, ModelContract.SnapshotUpdate));
        foreach (var output in snap.Output) step.OutputMap.Add(output.Name, output.Name);
        ens.EnsembleScheduling.Step.Add(step);

        var post = Step(Postproc, (Postprocessor.StrainInput, "strain"));
        foreach (var det in o.Detectors)
        {
            var cleaner = CleanerName(o.Cleaner, det);
            string noise = Postprocessor.NoiseInput(det);
            var cs = Step(cleaner, (ModelContract.WitnessInput, $"witness_{det.ToLowerInvariant()}"));
            cs.OutputMap.Add(ModelContract.NoiseOutput, noise);
            ens.EnsembleScheduling.Step.Add(cs);
            post.InputMap.Add(noise, noise);
            var noiseOut = models.Single(m => m.Name == cleaner).Config.Output.Single(x => x.Name == ModelContract.NoiseOutput).Clone();
            noiseOut.Name = noise;
            ens.Output.Add(noiseOut);
        }
        post.OutputMap.Add(Postprocessor.Output, "whitened");
        ens.EnsembleScheduling.Step.Add(post);

        var detector = DetectorName(o.Detector);
        var ds = Step(detector, (ModelContract.DetectorInput, "whitened"));
        ds.OutputMap.Add(ModelContract.ScoreOutput, ModelContract.ScoreOutput);
        ens.EnsembleScheduling.Step.Add(ds);
        ens.Output.Add(models.Single(m => m.Name == detector).Config.Output.Single(x => x.Name == ModelContract.ScoreOutput).Clone());
        return new RepositoryModel(EndToEnd, ens, null);
    }

    private static RepositoryModel CleanerStreamEnsemble(ModelRepositoryOptions o, IReadOnlyList<RepositoryModel> models)
    {
        var snap = models.Single(m => m.Name == StreamSnapshotter).Config;
        var cleaner = CleanerName(o.Cleaner, o.Detectors[0]);
        var ens = NewEnsemble(CleanerStream, $"{CleanerStream}: {o.Detectors[0]} witnesses -> snapshotter-stream -> {cleaner}");
        ens.Input.Add(snap.Input[0].Clone());
        var s1 = Step(StreamSnapshotter, (ModelContract.SnapshotUpdate, ModelContract.SnapshotUpdate));
        s1.OutputMap.Add("witness", "witness");
        var s2 = Step(cleaner, (ModelContract.WitnessInput, "witness"));
        s2.OutputMap.Add(ModelContract.NoiseOutput, ModelContract.NoiseOutput);
        ens.EnsembleScheduling.Step.Add(s1);
        ens.EnsembleScheduling.Step.Add(s2);
        ens.Output.Add(models.Single(m => m.Name == cleaner).Config.Output.Single(x => x.Name == ModelContract.NoiseOutput).Clone());
        return new RepositoryModel(CleanerStream, ens, null);
    }

    internal static ModelConfig NewEnsemble(string name, string description)
    {
        var c = new ModelConfig { Name = name, Platform = ModelConfigs.EnsemblePlatform, MaxBatchSize = 0, EnsembleScheduling = new ModelEnsembling() };
        c.Parameters.Add("description", new ModelParameter { StringValue = description });
        return c;
    }

    internal static ModelEnsembling.Types.Step Step(string model, params (string ModelTensor, string EnsembleTensor)[] inputs)
    {
        var s = new ModelEnsembling.Types.Step { ModelName = model, ModelVersion = -1 };
        foreach (var (m, e) in inputs) s.InputMap.Add(m, e);
        return s;
    }
}
