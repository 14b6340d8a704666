using System.Numerics.Tensors;

namespace GwReprocess.Dsp;

/// <summary>A channel's standardisation, as the model was trained: <c>(x − Mean) / Scale</c>.</summary>
public readonly record struct ChannelScaling(double Mean, double Scale)
{
    /// <summary>Leaves samples as they are (strain goes to the cleaners in strain units).</summary>
    public static ChannelScaling Identity => new(0, 1);

    /// <summary>Mean and standard deviation of a stretch of data, for channels whose model carries no scales.</summary>
    public static ChannelScaling Fit(ReadOnlySpan<double> samples)
    {
        double mean = TensorPrimitives.Sum(samples) / samples.Length;
        double var = 0;
        foreach (double x in samples) var += (x - mean) * (x - mean);
        double std = Math.Sqrt(var / samples.Length);
        return new ChannelScaling(mean, std > 0 ? std : 1);
    }
}
