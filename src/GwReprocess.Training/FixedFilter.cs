using System.Numerics.Tensors;

namespace GwReprocess.Training;

/// <summary>BBHnet's fixed input filter applied to training windows once, so the network trains on what its ONNX graph's first convolution hands on.</summary>
internal static class FixedFilter
{
    /// <summary>
    /// Every <paramref name="k"/>-sample block of <paramref name="windows"/> convolved with the FIR <paramref name="taps"/> in 'valid' mode with
    /// <paramref name="stride"/> (what the ONNX graph's Conv computes with the taps reversed), giving blocks of (k − taps) / stride + 1 samples;
    /// blocks are independent, so the result is the same on any number of threads.
    /// </summary>
    public static float[] Apply(float[] windows, int k, float[] taps, int stride, int threads)
    {
        int blocks = windows.Length / k, kept = Models.BbhNetArchitecture.FilteredLength(k, taps.Length, stride);
        var result = new float[blocks * kept];
        var reversed = (float[])taps.Clone();
        Array.Reverse(reversed);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, b =>
        {
            var x = windows.AsSpan(b * k, k);
            var y = result.AsSpan(b * kept, kept);
            for (int i = 0; i < kept; i++) y[i] = TensorPrimitives.Dot(x.Slice(i * stride, taps.Length), reversed);
        });
        return result;
    }
}
