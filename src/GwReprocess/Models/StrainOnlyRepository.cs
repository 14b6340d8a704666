using System.Globalization;
using Inference;

namespace GwReprocess.Models;

/// <summary>The strain-only detection repository (<c>--whitening stream</c>): snapshotter → whitener → detector, ensemble <c>search</c>; scores only, no cleaners.</summary>
/// <remarks>
/// <c>snapshot_update [1, D, B·s]</c> (the detectors' strains) → <c>snapshotter</c> (windows of N = background + K + delay samples, the delay half the whitening FIR rounded up to whole strides)
/// → <c>whitener</c> (the K samples ending the delay before the newest whitened by the PSD of the background before them; the client places scores that much earlier) → the detector →
/// <c>score [B, 1]</c>. The snapshotter's state starts at zero, so a stream's first background span is whitened by a
/// partly empty background (all zeros: zeros out); the ensemble's parameters say how long that is.
/// </remarks>
public static class StrainOnlyRepository
{
    /// <summary>The ensemble's <c>whitening</c> parameter.</summary>
    public const string WhiteningParameter = "whitening";

    public static IReadOnlyList<RepositoryModel> Build(ModelRepositoryOptions o)
    {
        if (o.Detector == DetectorKind.Templates)
            throw new BadInputException("--whitening stream takes --detector bbhnet: the template bank is calibrated on whitened background, which a strain-only build does not have yet");
        if (o.Cleaner == CleanerKind.Wiener || o.WienerFilters is not null)
            throw new BadInputException("--whitening stream builds a strain-only repository: no cleaner goes with it (drop --cleaner wiener, --fit, --workflow)");
        if (o.Instances < 1 || o.SnapshotterInstances < 1) throw new BadInputException("instance counts must be at least 1");
        if (o.Detectors.Count != 2) throw new BadInputException($"BBHnet takes exactly two detectors (H1, L1), not {o.Detectors.Count}");
        if (o.Precision == ModelPrecision.Fp16 && o.InstanceKind == ModelInstanceGroup.Types.Kind.Cpu)
            throw new BadInputException("--precision fp16 is for GPU instances: with --kind cpu build fp32");
        int fs = o.SampleRate, k = o.Kernel, b = o.Batch, s = o.Stride, d = o.Detectors.Count;
        var w = o.StreamWhitening;
        int background = w.BackgroundSamples(fs), segment = w.SegmentSamples(fs), taps = w.TapsAt(fs);

        // The whitened window ends half the FIR before the newest sample, rounded up to whole strides so each score's window still ends on the stream's stride grid.
        int delay = (Dsp.StreamWhitening.Delay(taps) + s - 1) / s * s;
        var snapshotter = Snapshotter.Build(ModelRepositoryBuilder.Snapshotter, background + k + delay, s, b, [new SnapshotterOutput(Postprocessor.StrainInput, d)],
            o.SnapshotterInstances, o.InstanceKind);
        var whitener = StreamWhitener.Build(ModelRepositoryBuilder.Whitener, d, background, k, b, segment, taps, w.LowCornerHz, fs, o.Instances, o.InstanceKind, delay);
        string detectorName = ModelRepositoryBuilder.DetectorName(DetectorKind.BbhNet);
        var detector = BbhNetNetwork.Build(detectorName, k, b, o.Seed + 100, o.Instances, o.InstanceKind);
        if (o.Precision == ModelPrecision.Fp16) detector = ModelRepositoryBuilder.ToFloat16(detector);
        return [snapshotter, whitener, detector, Ensemble(o, snapshotter, detector, background)];
    }

    private static RepositoryModel Ensemble(ModelRepositoryOptions o, RepositoryModel snapshotter, RepositoryModel detector, int background)
    {
        string seconds = (background / (double)o.SampleRate).ToString(CultureInfo.InvariantCulture);
        string snapshot = (snapshotter.Config.Output[0].Dims[^1] / (double)o.SampleRate).ToString(CultureInfo.InvariantCulture);
        var ens = ModelRepositoryBuilder.NewEnsemble(ModelRepositoryBuilder.Search,
            $"{ModelRepositoryBuilder.Search}: strain-only detection for {string.Join(", ", o.Detectors)}: snapshotter -> whitener (PSD of the {seconds} s before each window) -> " +
            $"{detector.Name}; one score per window, no cleaned data. A stream's first {snapshot} s (a snapshot) are whitened by a partly empty background: discard their scores");
        ens.Parameters[WhiteningParameter] = new ModelParameter { StringValue = "stream" };
        ens.Parameters["background_samples"] = new ModelParameter { StringValue = background.ToString(CultureInfo.InvariantCulture) };
        ens.Parameters["detectors"] = new ModelParameter { StringValue = string.Join(",", o.Detectors) };
        ens.Input.Add(snapshotter.Config.Input[0].Clone());
        var snap = ModelRepositoryBuilder.Step(ModelRepositoryBuilder.Snapshotter, (ModelContract.SnapshotUpdate, ModelContract.SnapshotUpdate));
        snap.OutputMap.Add(Postprocessor.StrainInput, "strain_windows");
        var whiten = ModelRepositoryBuilder.Step(ModelRepositoryBuilder.Whitener, (Postprocessor.StrainInput, "strain_windows"));
        whiten.OutputMap.Add(Postprocessor.Output, Postprocessor.Output);
        var detect = ModelRepositoryBuilder.Step(detector.Name, (ModelContract.DetectorInput, Postprocessor.Output));
        detect.OutputMap.Add(ModelContract.ScoreOutput, ModelContract.ScoreOutput);
        ens.EnsembleScheduling.Step.AddRange([snap, whiten, detect]);
        ens.Output.Add(detector.Config.Output.Single(x => x.Name == ModelContract.ScoreOutput).Clone());
        return new RepositoryModel(ModelRepositoryBuilder.Search, ens, null);
    }
}
