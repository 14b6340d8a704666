namespace GwReprocess.Models;

/// <summary>How the detection chain whitens strain before the detector.</summary>
public enum WhiteningMode
{
    /// <summary>postproc's FIR, designed at build time from the <c>--fit</c> span's ASD (identity without one): the gwe2e repository with cleaners.</summary>
    Fixed,

    /// <summary>The <c>whitener</c> model: a PSD from the stream's own background before each window; a strain-only detection repository (no cleaners).</summary>
    Stream,
}
