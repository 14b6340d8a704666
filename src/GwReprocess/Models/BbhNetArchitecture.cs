namespace GwReprocess.Models;

/// <summary>A BBHnet layer plan shared by the ONNX builder and the trainer: the fixed input filter a trained model starts with, the conv blocks and the dense head.</summary>
/// <param name="Name">The ONNX metadata's <c>architecture</c> and the <c>--architecture</c> value.</param>
/// <param name="LeadingPool">Max-pool size before the first conv block (1: none).</param>
/// <param name="Blocks">Conv blocks, each Conv → BatchNorm → max-pool 4 → ReLU.</param>
/// <param name="Dense">Dense blocks' widths (Linear → ReLU → dropout → BatchNorm), before the Linear → 1 output.</param>
/// <param name="InputStride">Stride of the fixed input filter: the decimation it performs.</param>
/// <param name="Summary">One line for descriptions and help.</param>
public sealed record BbhNetArchitecture(string Name, int LeadingPool, IReadOnlyList<BbhNetConvBlock> Blocks, IReadOnlyList<int> Dense, int InputStride, string Summary)
{
    /// <summary>Taps of the fixed input filter (odd, Kaiser β = 8: at least 70 dB down in the stop bands, 8 Hz and below and, decimating by 4, above 614 Hz).</summary>
    public const int InputFilterTaps = 1025;

    /// <summary>Pooling of every conv block.</summary>
    public const int BlockPool = 4;

    /// <summary>
    /// The paper-era gw-iaas BBHnet (reference-pipeline.md §9.1): max-pool 4 on the input, three blocks of kernel 3 with 8/16/32 channels,
    /// dense 64, 32. Trained, it is led by an 18 Hz high-pass at the full rate.
    /// </summary>
    public static BbhNetArchitecture Paper { get; } = new("bbhnet", 4, [new(8, 3), new(16, 3), new(32, 3)], [64, 32], 1,
        "paper-era BBHnet: max-pool 4 first, conv blocks of kernel 3 (8/16/32 channels), dense 64, 32");

    /// <summary>
    /// After George and Huerta's Deep Filtering (Phys. Lett. B 778, 64, 2018), at a quarter of the rate: a fixed 18–409.6 Hz band-pass that
    /// decimates by 4, then convolution before any pooling (kernel 16, then 8 dilated by 2, with 16/32/64 channels), so the first layer
    /// sees the waveform's phase rather than a max-pooled envelope; the same dense head as <see cref="Paper"/>.
    /// </summary>
    public static BbhNetArchitecture DeepFiltering { get; } = new("bbhnet-deepfiltering", 1, [new(16, 16), new(32, 8, 2), new(64, 8, 2)], [64, 32], 4,
        "Deep Filtering (George & Huerta 2018) at 1/4 of the rate: fixed 18-409.6 Hz band-pass decimating by 4, conv blocks of kernel 16/8/8 (dilation 1/2/2, 16/32/64 channels), dense 64, 32");

    /// <summary>Every architecture, by <see cref="Name"/>.</summary>
    public static IReadOnlyList<BbhNetArchitecture> All { get; } = [Paper, DeepFiltering];

    /// <summary>High-pass corner (Hz) of the fixed input filter. See <see cref="BbhNetNetwork.InputHighpassHz"/> for why 18.</summary>
    public double HighpassHz => BbhNetNetwork.InputHighpassHz;

    /// <summary>Low-pass corner (Hz) of the fixed input filter when it decimates: below the decimated Nyquist frequency by more than the 1025-tap transition.</summary>
    public double? LowpassHz(int sampleRate) => InputStride > 1 ? 0.4 * sampleRate / InputStride : null;

    /// <summary>The fixed input filter's band and decimation at <paramref name="sampleRate"/>, for logs and descriptions: "18-409.6 Hz, decimating by 4".</summary>
    public string InputFilterBand(int sampleRate) =>
        LowpassHz(sampleRate) is { } top
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{HighpassHz}-{top:0.#} Hz, decimating by {InputStride}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"high-pass at {HighpassHz} Hz");

    /// <summary>The architecture named <paramref name="name"/>, or null.</summary>
    public static BbhNetArchitecture? Find(string name) => All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The fixed filter a trained model puts before its network, as taps of a causal FIR (convolved: the ONNX builder reverses them for its
    /// correlation, the training's filter too): a high-pass at <see cref="HighpassHz"/>, band-limited below the decimated Nyquist frequency when
    /// <see cref="InputStride"/> decimates. postproc's 0.25 s whitening FIR leaks the strain's sub-10 Hz noise, hundreds of times the whitened
    /// floor, which the network would see.
    /// </summary>
    public float[] InputFilter(int sampleRate)
    {
        var window = Dsp.FirWindow.Kaiser(8);
        // A high-pass is the identity less a low-pass at its corner; a band-pass, a low-pass at the band's top less that one.
        var belowHighpass = Dsp.FirDesign.Lowpass(InputFilterTaps, HighpassHz / (sampleRate / 2.0), window);
        var bandTop = LowpassHz(sampleRate) is { } top ? Dsp.FirDesign.Lowpass(InputFilterTaps, top / (sampleRate / 2.0), window) : null;
        var taps = new float[belowHighpass.Length];
        for (int i = 0; i < taps.Length; i++) taps[i] = (float)((bandTop is null ? (i == taps.Length / 2 ? 1 : 0) : bandTop[i]) - belowHighpass[i]);
        return taps;
    }

    /// <summary>Samples per detector the network proper sees of a <paramref name="kernel"/>-sample window after the fixed filter ('valid', strided); 0 when the window is shorter than the filter.</summary>
    public static int FilteredLength(int kernel, int taps, int stride) => kernel < taps ? 0 : (kernel - taps) / stride + 1;

    /// <summary>Null when a served window of <paramref name="kernel"/> samples leaves the conv blocks at least one sample after the input filter, else why not (one line).</summary>
    public string? RefuseWindow(int kernel) =>
        FeatureLength(FilteredLength(kernel, InputFilterTaps, InputStride)) >= 1 ? null
            : $"a {kernel}-sample window is too short for {Name}'s {InputFilterTaps}-tap input filter, convolutions and pooling";

    /// <summary>Length after the conv blocks of an input of <paramref name="length"/> samples (after the input filter), or less than 1 when too short.</summary>
    public int FeatureLength(int length)
    {
        length /= LeadingPool;
        foreach (var block in Blocks) length = (length - block.Span) / BlockPool;
        return length;
    }
}
