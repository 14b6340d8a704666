using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

/// <summary>What the 40-byte GWF file header says (gwf-format.md §3).</summary>
public sealed record GwfFileHeader(int Version, int LibraryMinorVersion, bool IsBigEndian, int Library, bool HasFileChecksum)
{
    /// <summary>The library named in header byte 38 (v8 only).</summary>
    public string LibraryName => Version < 8 ? "unknown (v6 header)" : Library switch { 1 => "FrameL", 2 => "frameCPP", _ => "unknown" };
}

/// <summary>One frame of a GWF file: its GPS span and FrameH bookkeeping.</summary>
public sealed record GwfFrameInfo(int Index, GpsTime Start, GpsDuration Duration, int Run, uint FrameNumber, uint DataQuality, int LeapSeconds, long Position)
{
    /// <summary>The half-open span <c>[Start, Start + Duration)</c>.</summary>
    public Segment Span => Segment.FromStart(Start, Duration);
}

/// <summary>Which GWF structure holds a channel.</summary>
public enum GwfChannelKind
{
    /// <summary>FrAdcData: raw ADC samples.</summary>
    Adc,
    /// <summary>FrProcData: processed data such as calibrated strain.</summary>
    Proc,
    /// <summary>FrSimData: simulated data.</summary>
    Sim,
}

/// <summary>FrVect metadata: element type, compression, axes and units (gwf-format.md §7.5).</summary>
public sealed record GwfVectorInfo(
    string Name, ushort CompressCode, GwfVectorType Type, long NData, long NBytes,
    IReadOnlyList<long> Nx, IReadOnlyList<double> Dx, IReadOnlyList<double> StartX, IReadOnlyList<string> UnitX, string UnitY)
{
    public GwfCompression Compression => (GwfCompression)(CompressCode & 0xFF);
}

/// <summary>A channel as stored in one frame: its structure's fields and its vector's metadata.</summary>
public sealed record GwfChannelInfo(
    string Name, GwfChannelKind Kind, string Comment, double SampleRate, double TimeOffset, string Unit, GwfVectorInfo Vector)
{
    /// <summary>FrAdcData fields (zero for other kinds).</summary>
    public uint ChannelGroup { get; init; }
    public uint ChannelNumber { get; init; }
    public uint NBits { get; init; }
    public float Bias { get; init; }
    public float Slope { get; init; }
    public ushort DataValid { get; init; }

    /// <summary>FrProcData fields.</summary>
    public ushort ProcType { get; init; }
    public ushort ProcSubType { get; init; }
    public double TRange { get; init; }
    public IReadOnlyList<double> AuxParameters { get; init; } = [];
    public IReadOnlyList<string> AuxParameterNames { get; init; } = [];

    /// <summary>Heterodyne frequency (Hz) and phase (rad).</summary>
    public double FShift { get; init; }
    public float Phase { get; init; }
}

/// <summary>Decoded samples of one channel in one frame.</summary>
/// <param name="Channel">The channel's structure and vector metadata in this frame.</param>
/// <param name="Frame">The frame.</param>
/// <param name="T0">GPS time of the first sample.</param>
/// <param name="Real">The values (the real parts for a complex vector).</param>
/// <param name="Imaginary">The imaginary parts of a complex vector, else null.</param>
public sealed record GwfFrameSamples(GwfChannelInfo Channel, GwfFrameInfo Frame, GpsTime T0, double[] Real, double[]? Imaginary);

/// <summary>Outcome of <see cref="GwfFile.VerifyAsync"/>: structures and checksums checked, problems found.</summary>
public sealed record GwfVerification(string File, int Structures, int ChecksumsVerified, int FramesVerified, bool FileChecksumVerified, IReadOnlyList<string> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>Options for reading GWF files.</summary>
public sealed record GwfReadOptions
{
    /// <summary>Check each structure's CRC when it is read (v8). Turn off only for files known to carry wrong checksums.</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// Fail (<see cref="GwfFormatException"/>) when a structure the data does not depend on (FrSH, FrSE, FrHistory) fails its
    /// checksum; off by default, when such a failure is reported through <see cref="Warning"/> and the file is read.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Receives each checksum warning once per opened file (not called when <see cref="Strict"/>); they are also listed in <see cref="GwfFile.ChecksumWarnings"/>.</summary>
    public Action<GwfChecksumWarning>? Warning { get; init; }

    public static GwfReadOptions Default { get; } = new();
}

/// <summary>A FrDetector: site name, prefix and geometry (gwf-format.md §7.6).</summary>
public sealed record GwfDetector(string Name, string Prefix, double Longitude, double Latitude, float Elevation,
    float ArmXAzimuth, float ArmYAzimuth, float ArmXAltitude, float ArmYAltitude, float ArmXMidpoint, float ArmYMidpoint, int LocalTime);

/// <summary>A FrHistory entry: which program touched the data, and when (GPS s).</summary>
public sealed record GwfHistory(string Name, uint Time, string Comment);

/// <summary>The descriptive structures of one frame: FrameH name, detectors and history.</summary>
public sealed record GwfFrameDetails(GwfFrameInfo Frame, string Name, IReadOnlyList<GwfDetector> Detectors, IReadOnlyList<GwfHistory> History);
