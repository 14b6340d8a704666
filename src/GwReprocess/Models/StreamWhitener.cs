using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models.Onnx;
using GwReprocess.Models.Onnx.Protos;
using Inference;
using OnnxType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Models;

/// <summary>The serving whitener: each window whitened by a PSD estimated from the background span just before it in the stream (aframe's preprocessor).</summary>
/// <remarks>
/// Input <c>strain [B, D, N]</c> with N = background + K + delay (delay ≥ c = (T−1)/2), output <c>whitened [B, D, K]</c>; per (window, detector) the same
/// steps as <see cref="Dsp.StreamWhitening.Window"/>: mean Welch PSD of x[0 : N−K] (Hann, L samples, overlap L/2, constant
/// detrend), ASD, <see cref="Dsp.Whitening.FirFromAsd"/> (its grid is the Welch bins since T &lt; L), centred convolution
/// over the K samples that end <c>delay</c> before the newest, with real samples on both sides (the config's <c>window_delay</c>; the strain-only
/// repository rounds c up to a whole number of strides so the client's scores stay on the stride grid). The graph computes in float64 (a steep seismic wall leaves the
/// high-frequency bins 1e-10 below the low ones, under float32 FFT rounding), after scaling each row by its background's
/// largest magnitude (strain is ~1e-21; whitening is scale-free). An all-zero background whitens to zeros. Welch and the
/// convolution use the DFT operator (the FIR design too: the inverse DFT of an even real gain is a forward one), so the
/// file holds only the two short windows and a few index and scale vectors.
/// </remarks>
public static class StreamWhitener
{
    /// <summary>The <c>architecture</c> parameter of the config and ONNX metadata.</summary>
    public const string Architecture = "whitener";

    /// <summary>The config parameter giving how many samples the whitened window ends before the newest sample of its input (the FIR's half-length).</summary>
    public const string DelayParameter = "window_delay";

    /// <summary>Default background (PSD) span before each window, seconds: aframe's training PSD length.</summary>
    public const double DefaultBackgroundSeconds = 8;

    /// <summary>
    /// Default Welch segment, seconds (4096 samples at 4096 Hz). The FIR is one sample shorter, so its resolution (about 1 Hz) notches
    /// the mains harmonics: with 0.5 s segments and a 0.25 s FIR, an uncleaned simulated strain's 60-300 Hz lines came out at 20-46 times
    /// the whitened floor (rms 1.8); with 1 s, at 1.8 times (rms 1.03).
    /// </summary>
    public const double DefaultSegmentSeconds = 1;

    /// <summary>Default low corner, Hz: frequencies below it are removed.</summary>
    public const double DefaultLowCornerHz = 10;

    /// <summary>Default FIR length for a Welch segment of <paramref name="segment"/> samples: one less (4095 taps at 4096 Hz), odd and below it.</summary>
    public static int DefaultTaps(int segment) => Math.Max(3, segment - 1);

    /// <summary>Default Welch segment in samples at <paramref name="sampleRate"/>, even.</summary>
    public static int DefaultSegment(int sampleRate) => Math.Max(4, (int)Math.Round(sampleRate * DefaultSegmentSeconds) & ~1);

    public static RepositoryModel Build(string name, int detectors, int backgroundSamples, int kernel, int batch, int segment, int taps, double lowCornerHz, int sampleRate,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto, int? delay = null)
    {
        int after = delay ?? Dsp.StreamWhitening.Delay(taps);
        Dsp.StreamWhitening.Validate(name, backgroundSamples, kernel, segment, taps, lowCornerHz, sampleRate, after);
        if (detectors < 1) throw new BadInputException($"{name}: needs at least one detector");
        if (batch < 1) throw new BadInputException($"{name}: batch {batch} must be at least 1");
        int n = backgroundSamples + kernel + after, half = segment / 2, segments = (backgroundSamples - half) / half, bins = segment / 2 + 1;
        int c = (taps - 1) / 2;
        // The window ends c samples before the newest (real samples on both sides of every tap; Dsp.StreamWhitening says why).
        // Circular convolution of length M over K + 2c samples is exact on the kept ones once M ≥ K + T − 1.
        int m = (int)Math.Min(int.MaxValue / 2 + 1, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(kernel + taps - 1)));

        var g = new OnnxGraphBuilder(name);
        var batchDim = OnnxDim.Symbolic("batch");
        var strain = g.Input(Postprocessor.StrainInput, NetworkBuilder.Float, batchDim, detectors, n);
        var rows = g.Node("Cast", [g.Node("Reshape", [strain, g.Int64Vector("rows_shape", -1, n)], "rows_f32")], "rows", OnnxAttribute.Int("to", (long)OnnxType.Double));

        var axis1 = g.Int64Vector("axis1", 1);
        var zero = Scalar(g, "zero", 0);
        var background = g.Node("Slice", [rows, g.Int64Vector("bg_start", 0), g.Int64Vector("bg_end", backgroundSamples), axis1], "background");
        // The largest magnitude needs no squaring; 0 maps to a zero scale so an empty background gives zeros, never NaN.
        var peak = g.Node("ReduceMax", [g.Node("Abs", [background])], "bg_peak", OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));
        var inverse = g.Node("Where", [g.Node("Greater", [peak, zero]), g.Node("Reciprocal", [peak]), zero], "bg_scale");
        var x = g.Node("Mul", [rows, inverse], "normalised");

        // Welch: S segments of L with hop L/2 from the start of the background, as two shifted views of its halves.
        var halves = g.Node("Reshape", [g.Node("Slice", [x, g.Int64Vector("welch_start", 0), g.Int64Vector("welch_end", (long)(segments + 1) * half), axis1]),
            g.Int64Vector("halves_shape", -1, segments + 1, half)], "halves");
        var lead = g.Node("Slice", [halves, g.Int64Vector("lead_start", 0), g.Int64Vector("lead_end", segments), axis1]);
        var trail = g.Node("Slice", [halves, g.Int64Vector("trail_start", 1), g.Int64Vector("trail_end", segments + 1), axis1]);
        var seg = g.Node("Concat", [lead, trail], "segments", OnnxAttribute.Int("axis", 2));
        var detrended = g.Node("Sub", [seg, g.Node("ReduceMean", [seg], "segment_mean", OnnxAttribute.Ints("axes", 2), OnnxAttribute.Int("keepdims", 1))]);
        var hann = Dsp.FirWindow.Hann.Compute(segment, periodic: true);
        var windowed = g.Node("Mul", [detrended, Constant(g, "welch_window", hann, segment)], "windowed");
        // (Packing two real segments into one complex FFT measured no faster: ONNX Runtime's real-input DFT is already about half a complex one.)
        var spectra = g.Node("DFT", [g.Node("Unsqueeze", [windowed, g.Int64Vector("axis3", 3)])], "segment_spectra",
            OnnxAttribute.Int("axis", 2), OnnxAttribute.Int("onesided", 1));
        var power = g.Node("ReduceSumSquare", [spectra], "segment_power", OnnxAttribute.Ints("axes", 3), OnnxAttribute.Int("keepdims", 0));
        var psd = g.Node("Mul", [g.Node("ReduceMean", [power], "mean_power", OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0)),
            Constant(g, "density_scale", DensityScale(hann, segment, sampleRate), bins)], "psd");
        var asd = g.Node("Sqrt", [psd], "asd");
        var gain = g.Node("Mul", [g.Node("Where", [g.Node("Greater", [asd, zero]), g.Node("Reciprocal", [asd]), zero]),
            Constant(g, "band", Band(bins, segment, sampleRate, lowCornerHz), bins)], "gain");

        // FirFromAsd's FIR: h[j] = IDFT_L(gain)[j] for |j| ≤ c, tapered. The gain is real and even, so its inverse DFT is the real part
        // of the forward DFT of the mirrored gain over L, divided by L, and even in j: tap t is bin |t − c| of the one-sided result.
        var mirroredGain = g.Node("Concat", [gain, g.Node("Slice", [gain, g.Int64Vector("gain_mirror_start", half - 1), g.Int64Vector("gain_mirror_end", 0), axis1,
            g.Int64Vector("gain_mirror_step", -1)])], "gain_full", OnnxAttribute.Int("axis", 1));
        var impulse = g.Node("DFT", [g.Node("Unsqueeze", [mirroredGain, g.Int64Vector("axis2_gain", 2)])], "impulse_spectrum",
            OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("onesided", 1));
        var lags = new long[taps];
        for (int i = 0; i < taps; i++) lags[i] = Math.Abs(i - c);
        var impulseRe = g.Node("Gather", [impulse, g.Int64Vector("real_part", 0)], "impulse_re", OnnxAttribute.Int("axis", 2));
        var fir = g.Node("Mul", [g.Node("Gather", [g.Node("Squeeze", [impulseRe, g.Int64Vector("axis2_squeeze", 2)]), g.Int64Vector("fir_lags", lags)],
            "fir_raw", OnnxAttribute.Int("axis", 1)), Constant(g, "fir_taper", Taper(taps, sampleRate, segment), taps)], "fir");

        // Convolution by FFT: the window with c samples of background before it and c after, zero-padded to M; y[n] = z[n + 2c].
        // The series and the FIR share one complex FFT, Z = FFT(x + i·h): with A = Z_k, B = conj(Z_(M−k)),
        // X_k·H_k = (A + B)(A − B)/(4i) = (A² − B²)/(4i), for every k, so the product needs no mirroring.
        var length = g.InitializerInt64("dft_length", [m]);
        int span = kernel + 2 * c;
        var tail = g.Node("Slice", [x, g.Int64Vector("tail_start", n - after - kernel - c), g.Int64Vector("tail_end", n - after + c), axis1], "conv_input");
        var axis2 = g.Int64Vector("axis2", 2);
        var firPadded = g.Node("Pad", [fir, g.Int64Vector("fir_pad", 0, 0, 0, span - taps)], "fir_padded");
        var joint = g.Node("Concat", [g.Node("Unsqueeze", [tail, axis2]), g.Node("Unsqueeze", [firPadded, axis2])], "conv_joint", OnnxAttribute.Int("axis", 2));
        var zs = g.Node("DFT", [joint, length], "joint_spectrum", OnnxAttribute.Int("axis", 1));
        var reversed = g.Node("Mul", [g.Node("Concat", [g.Node("Slice", [zs, g.Int64Vector("z0_start", 0), g.Int64Vector("z0_end", 1), axis1]),
            g.Node("Slice", [zs, g.Int64Vector("zr_start", m - 1), g.Int64Vector("zr_end", 0), axis1, g.Int64Vector("zr_step", -1)])], "joint_reversed", OnnxAttribute.Int("axis", 1)),
            Constant(g, "conjugate", [1.0, -1.0], 2)], "joint_conjugate_reversed");
        var aParts = g.NodeMulti("Split", [zs], ["a_re", "a_im"], OnnxAttribute.Int("axis", 2));
        var bParts = g.NodeMulti("Split", [reversed], ["b_re", "b_im"], OnnxAttribute.Int("axis", 2));
        // A² − B² = (ar² − ai² − br² + bi²) + i·2(ar·ai − br·bi); divided by 4i: re = (ar·ai − br·bi)/2, im = −(ar² − ai² − br² + bi²)/4.
        var cross = g.Node("Sub", [g.Node("Mul", [aParts[0], aParts[1]]), g.Node("Mul", [bParts[0], bParts[1]])], "product_cross");
        var squares = g.Node("Add", [g.Node("Sub", [g.Node("Mul", [aParts[0], aParts[0]]), g.Node("Mul", [aParts[1], aParts[1]])]),
            g.Node("Sub", [g.Node("Mul", [bParts[1], bParts[1]]), g.Node("Mul", [bParts[0], bParts[0]])])], "product_squares");
        var product = g.Node("Concat", [g.Node("Mul", [cross, Scalar(g, "half", 0.5)]), g.Node("Mul", [squares, Scalar(g, "minus_quarter", -0.25)])], "product",
            OnnxAttribute.Int("axis", 2));
        var z = g.Node("DFT", [product], "convolved", OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("inverse", 1));
        var kept = g.Node("Slice", [z, g.Int64Vector("kept_start", 2L * c, 0), g.Int64Vector("kept_end", 2L * c + kernel, 1), g.Int64Vector("kept_axes", 1, 2)], "kept");
        var shaped = g.Node("Reshape", [kept, g.Int64Vector("out_shape", -1, detectors, kernel)], "whitened_f64");
        g.Node("Cast", [shaped], Postprocessor.Output, OnnxAttribute.Int("to", (long)OnnxType.Float));
        g.Output(Postprocessor.Output, NetworkBuilder.Float, batchDim, detectors, kernel);

        string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
        string description = $"whitener: each of {detectors} detector(s) per window whitened by the mean Welch PSD ({segment}-sample Hann segments, half overlap) " +
                             $"of the {backgroundSamples} samples ({Inv(backgroundSamples / (double)sampleRate)} s) before its {kernel}-sample window, which ends {after} samples before the newest; " +
                             $"{taps}-tap FIR from that ASD, removed below {Inv(lowCornerHz)} Hz (aframe-style whitening from the stream itself)";
        var parameters = new Dictionary<string, string>
        {
            ["architecture"] = Architecture,
            ["background_samples"] = Inv(backgroundSamples),
            ["welch_segment"] = Inv(segment),
            ["fir_taps"] = Inv(taps),
            ["low_corner_hz"] = Inv(lowCornerHz),
            ["sample_rate"] = Inv(sampleRate),
            [DelayParameter] = Inv(after),
        };
        var model = g.Build(description, parameters);
        var config = ModelConfigs.Onnx(name, instances, kind, description,
            [ModelConfigs.Input(Postprocessor.StrainInput, batch, detectors, n)], [ModelConfigs.Output(Postprocessor.Output, batch, detectors, kernel)]);
        foreach (var (key, value) in parameters) config.Parameters[key] = new ModelParameter { StringValue = value };
        return new RepositoryModel(name, config, model, detectors * Flops(backgroundSamples, kernel, segment, segments, bins, taps, m));
    }

    /// <summary>Welch's density scale per bin: 1/(fs·Σw²), doubled except at DC and (even L) Nyquist.</summary>
    private static double[] DensityScale(double[] window, int segment, int sampleRate)
    {
        double sumSquares = 0;
        foreach (var v in window) sumSquares += v * v;
        int bins = segment / 2 + 1;
        var s = new double[bins];
        for (int i = 0; i < bins; i++) s[i] = (i > 0 && i < bins - 1 ? 2.0 : 1.0) / (sampleRate * sumSquares);
        return s;
    }

    /// <summary>1 where FirFromAsd keeps a bin (its frequency k·fs/L at or above the low corner), else 0.</summary>
    private static double[] Band(int bins, int segment, int sampleRate, double lowCornerHz)
    {
        var b = new double[bins];
        for (int i = 0; i < bins; i++) b[i] = i * (double)sampleRate / segment < lowCornerHz ? 0 : 1;
        return b;
    }

    /// <summary>FirFromAsd's symmetric Hann taper (T+2 points, end zeros dropped) times √(2/fs), and the inverse DFT's 1/L.</summary>
    private static double[] Taper(int taps, int sampleRate, int segment)
    {
        var window = Dsp.FirWindow.Hann.Compute(taps + 2, periodic: false);
        double norm = Math.Sqrt(2.0 / sampleRate) / segment;
        var w = new double[taps];
        for (int i = 0; i < taps; i++) w[i] = window[i + 1] * norm;
        return w;
    }

    private static double Flops(int background, int kernel, int segment, int segments, int bins, int taps, int m)
    {
        double fft(int size) => 2.5 * size * Math.Log2(size);
        return 3.0 * background + segments * (3.0 * segment + fft(segment) + 3.0 * bins) + 6.0 * bins
               + fft(segment) + 2.0 * taps + 2 * fft(m) + 12.0 * m + 2 * fft(m) + 2.0 * kernel;
    }

    private static string Scalar(OnnxGraphBuilder g, string name, double value) => Constant(g, name, [value]);

    /// <summary>A float64 constant (OnnxGraphBuilder's initializers are float32 and int64); no dims makes a scalar.</summary>
    private static string Constant(OnnxGraphBuilder g, string name, double[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)OnnxType.Double, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.AddRange(dims);
        return g.Node("Constant", [], name, OnnxAttribute.Tensor("value", tensor));
    }
}
