using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>DeepClean's loss: the cleaned-to-raw PSD ratio in the cleaning band (Welch inside the loss), optionally plus MSE.</summary>
/// <remarks>
/// As ML4GW's DeepClean trains: Welch PSDs (Hann window, constant detrend, mean over segments) of the residual
/// <c>target − prediction</c> and of the target, their ratio averaged over the frequency bins inside the band, then
/// over the batch. Bins count equally, so a loud line and a quiet sideband weigh the same, which is what lets the
/// network learn the modulation sidebands next to the line. The ratio ignores units; the MSE term (weight
/// <c>1 − psdWeight</c>) keeps the prediction small outside the band.
/// </remarks>
internal sealed class PsdRatioLoss : IDisposable
{
    private readonly Tensor _window;
    private readonly Tensor _bins;
    private readonly int _fft, _hop;
    private readonly double _psdWeight;

    public PsdRatioLoss(int sampleRate, double fftSeconds, double overlapSeconds, IReadOnlyList<(double Low, double High)> bands, double psdWeight)
    {
        _fft = (int)Math.Round(fftSeconds * sampleRate);
        _hop = _fft - (int)Math.Round(overlapSeconds * sampleRate);
        if (_hop <= 0) throw new BadInputException($"Welch overlap {overlapSeconds} s must be shorter than its {fftSeconds} s segments");
        _psdWeight = psdWeight;
        // Periodic Hann, as scipy.signal.welch's default window.
        var w = new float[_fft];
        for (int i = 0; i < _fft; i++) w[i] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / _fft));
        _window = tensor(w);
        var bins = new List<long>();
        double df = (double)sampleRate / _fft;
        for (int k = 0; k <= _fft / 2; k++)
        {
            double f = k * df;
            foreach (var (low, high) in bands)
                if (f >= low && f <= high) { bins.Add(k); break; }
        }
        if (bins.Count == 0) throw new BadInputException($"no {df:G3} Hz Welch bin lies in the cleaning band");
        _bins = tensor(bins.ToArray());
        Bins = bins.Count;
    }

    /// <summary>Frequency bins the ratio averages over.</summary>
    public int Bins { get; }

    /// <summary>Samples a training window must hold at least (one Welch segment).</summary>
    public int MinimumLength => _fft;

    /// <summary>The loss of a batch: predictions and targets [B, N].</summary>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        using var scope = NewDisposeScope();
        var ratio = (Welch(target - prediction) / Welch(target)).mean();
        var loss = _psdWeight >= 1 ? ratio : _psdWeight * ratio + (1 - _psdWeight) * (prediction - target).pow(2).mean();
        return loss.MoveToOuterDisposeScope();
    }

    private Tensor Welch(Tensor x)
    {
        var segments = x.unfold(-1, _fft, _hop);
        segments = (segments - segments.mean([-1L], keepdim: true)) * _window;
        var power = fft.rfft(segments, dim: -1).abs().pow(2);
        return power.index_select(-1, _bins).mean([1L]);
    }

    public void Dispose()
    {
        _window.Dispose();
        _bins.Dispose();
    }
}
