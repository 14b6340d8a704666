using GwReprocess.Time;

namespace GwReprocess.Simulation;

/// <summary>What a witness channel records.</summary>
public enum WitnessRole
{
    /// <summary>The power-mains monitor: 60 Hz and harmonics with wandering amplitude and phase, plus sensor noise; couples linearly into strain.</summary>
    Mains,

    /// <summary>An angular-control signal: low-frequency coloured noise; some also carry a modulation that multiplies the 60 Hz line in strain.</summary>
    Angular,
}

/// <summary>One witness channel: full name, native sample rate (Hz), role and unit.</summary>
public sealed record WitnessChannel(string Name, int SampleRate, WitnessRole Role, string Unit = "counts");

/// <summary>A low-frequency modulation carried by an angular witness and multiplied onto the 60 Hz mains line in strain (bilinear coupling).</summary>
/// <param name="Witness">Channel name without the detector prefix, e.g. <c>ASC-INP1_P_INMON</c>.</param>
/// <param name="Frequency">Modulation frequency (Hz, a multiple of 1/64 Hz): sidebands appear at 60 ± this.</param>
/// <param name="Amplitude">Mean amplitude of the modulation in the witness (counts).</param>
/// <param name="Coefficient">β: strain += β · m(t) · mains₆₀(t), in strain per count² (mains₆₀ = the 60 Hz part of the mains witness).</param>
public sealed record ModulationSpec(string Witness, double Frequency, double Amplitude, double Coefficient);

/// <summary>Settings of a simulation run (span, detectors, channels, couplings, injections, output layout).</summary>
public sealed record SimulationOptions
{
    /// <summary>Witness names in the order DeepClean's O3 configuration lists them (without the detector prefix).</summary>
    public static IReadOnlyList<string> DefaultWitnessNames { get; } =
    [
        "PEM-CS_MAINSMON_EBAY_1_DQ",
        "ASC-INP1_P_INMON", "ASC-INP1_Y_INMON", "ASC-MICH_P_INMON", "ASC-MICH_Y_INMON",
        "ASC-PRC1_P_INMON", "ASC-PRC1_Y_INMON", "ASC-PRC2_P_INMON", "ASC-PRC2_Y_INMON",
        "ASC-SRC1_P_INMON", "ASC-SRC1_Y_INMON", "ASC-SRC2_P_INMON", "ASC-SRC2_Y_INMON",
        "ASC-DHARD_P_INMON", "ASC-DHARD_Y_INMON", "ASC-CHARD_P_INMON", "ASC-CHARD_Y_INMON",
        "ASC-DSOFT_P_INMON", "ASC-DSOFT_Y_INMON", "ASC-CSOFT_P_INMON", "ASC-CSOFT_Y_INMON",
    ];

    /// <summary>GPS start (whole seconds).</summary>
    public GpsTime Start { get; init; } = GpsTime.FromSeconds(1_000_000_000);

    /// <summary>Duration (whole seconds).</summary>
    public long Duration { get; init; } = 4096;

    /// <summary>Detector prefixes, e.g. H1, L1 (the observatory letter is the first character).</summary>
    public IReadOnlyList<string> Ifos { get; init; } = ["H1", "L1"];

    /// <summary>Root of every random stream.</summary>
    public long Seed { get; init; } = 7;

    /// <summary>File length (s): files start at GPS multiples of it, as IGWN archives do (4096).</summary>
    public long FrameLength { get; init; } = 4096;

    /// <summary>Duration of each frame inside a file (s); the writer holds one frame in memory at a time.</summary>
    public int FrameDuration { get; init; } = 64;

    /// <summary>Frame type of the file names (<c>H-H1_SIM-GPS-DUR.gwf</c>: <c>{ifo}_{FrameType}</c>).</summary>
    public string FrameType { get; init; } = "SIM";

    /// <summary>Strain channel name after the detector prefix.</summary>
    public string StrainChannel { get; init; } = "GDS-CALIB_STRAIN";

    /// <summary>Strain sample rate (Hz).</summary>
    public int StrainRate { get; init; } = 16384;

    /// <summary>Number of witnesses per detector: the first of <see cref="WitnessNames"/>, then generated angular names.</summary>
    public int Witnesses { get; init; } = 21;

    /// <summary>Witness names after the detector prefix (default <see cref="DefaultWitnessNames"/>).</summary>
    public IReadOnlyList<string> WitnessNames { get; init; } = DefaultWitnessNames;

    /// <summary>Mains fundamental (Hz): 60 in North America.</summary>
    public double MainsFrequency { get; init; } = 60;

    /// <summary>Mean amplitudes of the mains harmonics 1, 2, 3, … in the mains witness (counts).</summary>
    public IReadOnlyList<double> MainsHarmonics { get; init; } = [100, 30, 50, 15, 25];

    /// <summary>Linear coupling of the mains witness into strain (strain per count), before the per-detector ±20 % spread.</summary>
    public double MainsCoupling { get; init; } = 1e-23;

    /// <summary>Bilinear modulations (only those whose witness exists are used).</summary>
    public IReadOnlyList<ModulationSpec> Modulations { get; init; } =
    [
        new("ASC-INP1_P_INMON", 1.5, 10, 4e-25),
        new("ASC-CHARD_Y_INMON", 3.25, 10, 2e-25),
    ];

    /// <summary>Injected sources; <see cref="InjectionSettings.Rate"/> 0 disables injections.</summary>
    public InjectionSettings Injections { get; init; } = new();

    /// <summary>Number of random gaps (10–300 s each, at most a quarter of the span) cut out of the span: no frames there, and the segment file omits them.</summary>
    public int Gaps { get; init; }

    /// <summary>Checks the options; throws <see cref="BadInputException"/> naming the offending setting.</summary>
    public void Validate()
    {
        if (!Start.IsWholeSecond) throw new BadInputException($"--start {Start}: the simulation starts at a whole GPS second");
        if (Start.Seconds < 0) throw new BadInputException($"--start {Start}: GPS time must not be negative");
        if (Duration <= 0) throw new BadInputException($"--duration {Duration}: must be a positive number of seconds");
        if (Ifos.Count == 0) throw new BadInputException("--ifos: at least one detector is needed");
        foreach (var ifo in Ifos)
            if (ifo.Length != 2 || !char.IsAsciiLetterUpper(ifo[0]) || !char.IsAsciiDigit(ifo[1]))
                throw new BadInputException($"--ifos: '{ifo}' is not a detector prefix like H1 or L1");
        if (Ifos.Distinct().Count() != Ifos.Count) throw new BadInputException($"--ifos: a detector is listed twice ({string.Join(",", Ifos)})");
        if (FrameLength <= 0) throw new BadInputException($"--frame-length {FrameLength}: must be a positive number of seconds");
        if (FrameDuration <= 0) throw new BadInputException($"--frame-duration {FrameDuration}: must be a positive number of seconds");
        if (Witnesses is < 0 or > 256) throw new BadInputException($"--witnesses {Witnesses}: must lie in [0, 256]");
        if (StrainRate is < 1024 or > 65536 || !int.IsPow2(StrainRate)) throw new BadInputException($"strain rate {StrainRate} Hz: must be a power of two in [1024, 65536]");
        if (Injections.Rate is < 0 or > 1) throw new BadInputException($"--injection-rate {Injections.Rate}: must lie in [0, 1] per second");
        if (!(Injections.MinMass > 0) || Injections.MaxMass < Injections.MinMass || !(Injections.LowFrequency > 0))
            throw new BadInputException($"injection masses [{Injections.MinMass}, {Injections.MaxMass}] M☉ from {Injections.LowFrequency} Hz: need 0 < min ≤ max and a positive frequency");
        if (!Enum.IsDefined(Injections.Waveform)) throw new BadInputException($"--waveform {(int)Injections.Waveform}: not one of {string.Join(", ", Waveforms.Names)}");
        double longest = Waveforms.Lead(Injections.Waveform, Injections.MinMass, Injections.MinMass, Injections.LowFrequency);
        if (longest + 6 > InjectionSchedule.MaxLead)
            throw new BadInputException($"injections of {Injections.MinMass} M☉ from {Injections.LowFrequency} Hz last {longest:F0} s, longer than the {InjectionSchedule.MaxLead - 6} s the injector handles: raise the minimum mass or the low frequency");
        if (Gaps < 0) throw new BadInputException($"--gaps {Gaps}: must not be negative");
        if (string.IsNullOrWhiteSpace(FrameType) || FrameType.Contains('-')) throw new BadInputException($"--frame-type '{FrameType}': must be non-empty without '-'");
    }

    /// <summary>The simulated span [Start, Start + Duration).</summary>
    public Segment Span => Segment.FromStart(Start, GpsDuration.FromSeconds(Duration));

    /// <summary>The witness channels of <paramref name="ifo"/>, in order: native rates 2048 Hz (mains), 512 Hz (pitch, *_P), 256 Hz (others).</summary>
    public IReadOnlyList<WitnessChannel> WitnessChannels(string ifo)
    {
        var list = new List<WitnessChannel>(Witnesses);
        for (int i = 0; i < Witnesses; i++)
        {
            string name = i < WitnessNames.Count ? WitnessNames[i] : $"ASC-SIM{i - WitnessNames.Count + 1:000}_Y_INMON";
            bool mains = name.Contains("MAINSMON", StringComparison.Ordinal);
            int rate = mains ? 2048 : name.EndsWith("_P_INMON", StringComparison.Ordinal) ? 512 : 256;
            list.Add(new WitnessChannel($"{ifo}:{name}", rate, mains ? WitnessRole.Mains : WitnessRole.Angular));
        }
        return list;
    }
}
