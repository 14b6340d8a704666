using GwReprocess.Data;
using GwReprocess.Time;
using GwReprocess.Simulation;

namespace GwReprocess.Workflow;

/// <summary>Where a workflow's frames come from.</summary>
public enum DataSourceKind
{
    /// <summary>Synthetic frames written by <c>gwrepro simulate</c> before the run.</summary>
    Simulated,
    /// <summary>A LAL frame cache.</summary>
    Cache,
    /// <summary>Frame files discovered under a bucket prefix (file://, s3://, gs://).</summary>
    Bucket,
}

/// <summary>The data a workflow processes: source, span, and the simulation settings when simulated.</summary>
/// <remarks><c>StrictChecksums</c> (<c>strict_checksums</c>): a GWF structure the data does not depend on (FrSH, FrSE, FrHistory) failing its checksum stops the job (exit 2) instead of a warning.</remarks>
public sealed record DataSpec(DataSourceKind Kind, Segment Span, string? Cache, string? Bucket, SimulationSpec? Simulation, bool StrictChecksums = false)
{
    /// <summary>Gaps inside the input files (NaN samples, GWOSC DQmask DATA-off seconds): <c>gaps = "refuse"</c> (the default) stops the job with one line, <c>"zero"</c> fills them with zeros and logs them.</summary>
    public GwReprocess.Frames.GapPolicy Gaps { get; init; } = GwReprocess.Frames.GapPolicy.Refuse;

    /// <summary>
    /// A relative local <c>data.cache</c> inside the run directory, as the jobs are sent it (normalised: <c>./</c>, <c>a/..</c>
    /// and doubled slashes gone); null for another source, a URL, an absolute path, or a path that leaves the run directory
    /// (<c>../frames/o3a.lcf</c>) or names it.
    /// </summary>
    public string? CacheInRunDirectory()
    {
        if (Kind != DataSourceKind.Cache || Cache is null || GwReprocess.IO.Location.Parse(Cache).IsRooted) return null;
        // Normalised against a fixed root, not the current directory, so that '..' is judged the same wherever this runs.
        string root = System.IO.Path.GetFullPath("/run-directory/");
        string full = System.IO.Path.GetFullPath(Cache, root);
        return full.StartsWith(root, StringComparison.Ordinal) && full.Length > root.Length ? System.IO.Path.GetRelativePath(root, full) : null;
    }
}

/// <summary>Settings for simulated data (the demo's default).</summary>
public sealed record SimulationSpec(long Seed, int Witnesses, double InjectionRate, GpsDuration FrameLength, string Directory)
{
    /// <summary>The injections' waveform family (<c>waveform</c>: taylorf2-0pn, the default, or phenomb).</summary>
    public WaveformFamily Waveform { get; init; }
}

/// <summary>One detector: its strain channel, its witness channels in model order, its science and veto segments.</summary>
public sealed record DetectorSpec(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Segments, IReadOnlyList<string> Vetoes)
{
    /// <summary>The detector's own ensemble (<c>ensemble</c>, e.g. a hermes <c>deepclean-stream-0.5</c>), streamed on its own sequence; null streams with the others to <c>[inference] ensemble</c>.</summary>
    public string? Ensemble { get; init; }
}

/// <summary>How the span is cut into client jobs.</summary>
public sealed record JobLayout(GpsDuration Length, GpsDuration Minimum, GpsDuration Padding);

/// <summary>Which servers the clients stream to and what they run.</summary>
public sealed record InferenceSpec(
    string ModelRepository, string Ensemble, int Rate, int Batch,
    int Servers, IReadOnlyList<string> Addresses, int ClientsPerServer, int GpusPerServer)
{
    /// <summary>True when the workflow starts its own server nodes instead of using external addresses.</summary>
    public bool StartsServers => Addresses.Count == 0;

    /// <summary>Number of servers clients are balanced across.</summary>
    public int ServerCount => StartsServers ? Servers : Addresses.Count;

    /// <summary>PEM file of the CA certificate(s) clients trust for the servers' TLS certificates (<c>tls_ca</c>, relative to the workflow); setting it makes clients connect with TLS.</summary>
    public string? TlsCa { get; init; }

    /// <summary>PEM certificate the server nodes serve TLS with (<c>tls_cert</c>, relative to the workflow; with <see cref="TlsKey"/>).</summary>
    public string? TlsCert { get; init; }

    /// <summary>PEM private key of <see cref="TlsCert"/> (<c>tls_key</c>, relative to the workflow).</summary>
    public string? TlsKey { get; init; }

    /// <summary>File holding the bearer token server nodes require and clients send (<c>token_file</c>, relative to the workflow); the token itself never enters the DAG or submit files.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Nice levels the server nodes keep their transport threads below their model threads (<c>transport_nice</c>, <c>gwrepro serve --transport-nice</c>; 0 = off).</summary>
    public int TransportNice { get; init; }

    /// <summary>How many times a server node killed or failed is rerun in place (<c>server_restarts</c>, default 3): <c>max_retries</c> in server.sub, and what <c>gwrepro run</c> allows a SERVICE node.</summary>
    public int ServerRestarts { get; init; } = 3;

    /// <summary>True when the server nodes the workflow starts serve TLS.</summary>
    public bool ServesTls => StartsServers && TlsCert is not null;
}

/// <summary>How a run's clients start together: the barrier policy in the rendezvous prefix.</summary>
/// <param name="Mode">all, quorum or timeout-then-go (<c>[inference] barrier</c>).</param>
/// <param name="Expected">Clients expected at the barrier, or null for the default: the clients that can run at once, min(jobs, servers × clients_per_server) (DAGMan's MAXJOBS throttle), so the barrier cannot wait for jobs that are held back until others finish.</param>
/// <param name="Timeout">How long to wait for everyone (<c>barrier_timeout</c>, seconds).</param>
/// <param name="QuorumFraction">Fraction of the expected clients that suffices under the quorum policy (<c>barrier_quorum</c>).</param>
public sealed record BarrierSpec(GwReprocess.Jobs.BarrierMode Mode, int? Expected, GpsDuration Timeout, double QuorumFraction)
{
    /// <summary>Timeout-then-go after 60 s: a late or missing client costs at most a minute, never the run.</summary>
    public static BarrierSpec Default => new(GwReprocess.Jobs.BarrierMode.TimeoutThenGo, null, GpsDuration.FromSeconds(60), 0.9);
}

/// <summary>How noise estimates become cleaned strain (<c>[cleaning]</c>).</summary>
/// <param name="BandLow">Low edge of the band the noise estimate is kept in, Hz.</param>
/// <param name="BandHigh">High edge, Hz.</param>
/// <param name="Edge">Seconds ignored at both ends of every noise window before averaging.</param>
/// <param name="CausalLatency">When set, causal aggregation: each sample averages only windows whose last <c>CausalLatency</c> seconds hold it (<see cref="Edge"/> is then unused).</param>
/// <param name="Margin">Seconds of noise and strain either side of an output frame that the zero-phase band-pass runs over before the frame is cut out, so a frame does not depend on where its stream started.</param>
/// <param name="MaxInFlight">Requests a client keeps unanswered at once.</param>
/// <param name="Retries">Reconnects after transient stream errors before the job gives up (exit 1).</param>
public sealed record CleaningSpec(double BandLow, double BandHigh, GpsDuration Edge, GpsDuration? CausalLatency, GpsDuration Margin, int MaxInFlight, int Retries)
{
    /// <summary>15–500 Hz (the Wiener fit's default band), 1/8 s edges, 2 s margins, 8 requests in flight, 5 retries.</summary>
    public static CleaningSpec Default => new(15, 500, GpsDuration.FromNanoseconds(125_000_000), null, GpsDuration.FromSeconds(2), 8, 5);

    /// <summary>
    /// The witnesses' high-pass before standardisation (<c>witness_highpass</c> Hz, <c>witness_highpass_order</c>), or null for none:
    /// applied by the client, the Wiener fit and gwrepro-train alike, and recorded in the models, which refuse a workflow that differs.
    /// </summary>
    public GwReprocess.Dsp.WitnessHighpass? WitnessHighpass { get; init; }
}

/// <summary>Where results go and how cleaned strain is named.</summary>
public sealed record OutputSpec(string Uri, string ChannelSuffix, string FrameType);

/// <summary>HTCondor settings: target version, retries, throttles, resources, site profile values.</summary>
public sealed record CondorSpec(
    HTCondorVersion MinimumVersion, int Retries, int MaxIdle, string Executable, string? Templates,
    int ClientCpus, string ClientMemory, string ClientDisk, int ServerCpus, string ServerMemory);

/// <summary>A whole workflow file, validated: what <c>gwrepro dag</c> plans and <c>gwrepro run</c> executes.</summary>
public sealed record WorkflowConfig(
    string Name, string SourcePath, DataSpec Data, IReadOnlyList<DetectorSpec> Detectors, JobLayout Jobs,
    InferenceSpec Inference, OutputSpec Outputs, SiteProfile Site, CondorSpec Condor)
{
    /// <summary>Detector prefixes joined ("H1L1"), as node names use them.</summary>
    public string IfoTag => string.Concat(Detectors.Select(d => d.Ifo));

    /// <summary>True when no detector lists witnesses: the jobs stream strain to a detection-only ensemble and write scores only, no cleaned frames.</summary>
    public bool StrainOnly => Detectors.All(d => d.Witnesses.Count == 0);

    /// <summary>The clients' start barrier (<c>[inference] barrier*</c> keys).</summary>
    public BarrierSpec Barrier { get; init; } = BarrierSpec.Default;

    /// <summary>Aggregation, band-pass and retry settings of the client jobs (<c>[cleaning]</c>).</summary>
    public CleaningSpec Cleaning { get; init; } = CleaningSpec.Default;

    /// <summary>Per-chunk training before cleaning (<c>[training]</c>), or null when the workflow cleans with the repository's models as they are.</summary>
    public TrainingSpec? Training { get; init; }

    /// <summary>Reads and validates a workflow file; errors name the key and line.</summary>
    public static WorkflowConfig Load(string path) => Read(ConfigTable.Load(path), path);

    /// <summary>Parses workflow text; <paramref name="source"/> names it in errors and anchors relative paths.</summary>
    public static WorkflowConfig Parse(string text, string source) => Read(ConfigTable.Parse(text, source), source);

    private static WorkflowConfig Read(ConfigTable t, string source)
    {
        string name = t.RequiredString("run.name");
        if (!NodeNames.IsValidToken(name)) throw t.Error("run.name", $"'{name}' may only contain letters, digits, '_' and '-'");

        var start = t.OptionalGpsTime("data.start") ?? throw t.Error("data", "required key 'data.start' is missing");
        var end = t.OptionalGpsTime("data.end") ?? throw t.Error("data", "required key 'data.end' is missing");
        if (end <= start) throw t.Error("data.end", $"{end} is not after data.start {start}");
        var span = new Segment(start, end);

        string kindText = t.String("data.source", "simulated");
        var kind = kindText switch
        {
            "simulated" => DataSourceKind.Simulated,
            "cache" => DataSourceKind.Cache,
            "bucket" => DataSourceKind.Bucket,
            _ => throw t.Error("data.source", $"'{kindText}' is not one of simulated, cache, bucket"),
        };
        string? cache = t.OptionalString("data.cache");
        string? bucket = t.OptionalString("data.bucket");
        bool strictChecksums = t.Boolean("data.strict_checksums", false);
        string gapsText = t.String("data.gaps", "refuse");
        var gaps = gapsText switch
        {
            "refuse" => GwReprocess.Frames.GapPolicy.Refuse,
            "zero" => GwReprocess.Frames.GapPolicy.Zero,
            _ => throw t.Error("data.gaps", $"'{gapsText}' is not one of refuse, zero"),
        };
        if (kind == DataSourceKind.Cache && cache is null) throw t.Error("data.source", "source 'cache' needs data.cache");
        if (kind == DataSourceKind.Bucket && bucket is null) throw t.Error("data.source", "source 'bucket' needs data.bucket");
        SimulationSpec? simulation = null;
        if (kind == DataSourceKind.Simulated)
        {
            int witnesses = (int)t.Integer("data.simulate.witnesses", 21);
            if (witnesses is < 0 or > 256) throw t.Error("data.simulate.witnesses", "must lie in [0, 256]");
            double injectionRate = t.Number("data.simulate.injection_rate", 0.01);
            if (injectionRate is < 0 or > 1) throw t.Error("data.simulate.injection_rate", "must lie in [0, 1] injections per second");
            var frame = t.OptionalDuration("data.simulate.frame_length") ?? GpsDuration.FromSeconds(4096);
            if (frame <= GpsDuration.Zero) throw t.Error("data.simulate.frame_length", "must be positive");
            string waveformText = t.String("data.simulate.waveform", Waveforms.Name(default));
            if (!Waveforms.TryParse(waveformText, out var waveform))
                throw t.Error("data.simulate.waveform", $"'{waveformText}' is not one of {string.Join(", ", Waveforms.Names)}");
            simulation = new SimulationSpec(t.Integer("data.simulate.seed", 7), witnesses, injectionRate, frame,
                t.String("data.simulate.directory", "frames")) { Waveform = waveform };
        }

        var detectors = new List<DetectorSpec>();
        foreach (var ifo in t.TablesUnder("detectors"))
        {
            string p = $"detectors.{ifo}";
            if (ifo.Length != 2 || !char.IsAsciiLetterUpper(ifo[0]) || !char.IsAsciiDigit(ifo[1]))
                throw t.Error(p, $"'{ifo}' is not a detector prefix like H1, L1, V1");
            var strain = Channel(t, $"{p}.strain", ifo);
            var witnesses = (t.OptionalStringList($"{p}.witnesses") ?? []).Select(w => Channel(t, $"{p}.witnesses", ifo, w)).ToList();
            if (witnesses.Distinct().Count() != witnesses.Count) throw t.Error($"{p}.witnesses", "a witness channel is listed twice");
            detectors.Add(new DetectorSpec(ifo, strain, witnesses, t.OptionalString($"{p}.segments"), t.OptionalStringList($"{p}.vetoes") ?? [])
            {
                Ensemble = t.OptionalString($"{p}.ensemble"),
            });
        }
        if (detectors.Count == 0) throw new BadInputException($"{source}: no [detectors.XX] table: name at least one detector");

        var length = t.OptionalDuration("jobs.length") ?? GpsDuration.FromSeconds(4096);
        var minimum = t.OptionalDuration("jobs.minimum") ?? GpsDuration.FromSeconds(Math.Min(300, (long)length.TotalSeconds));
        var padding = t.OptionalDuration("jobs.padding") ?? GpsDuration.FromSeconds(8);
        if (length <= GpsDuration.Zero) throw t.Error("jobs.length", "must be positive");
        if (minimum > length) throw t.Error("jobs.minimum", $"{minimum} s is longer than jobs.length {length} s");

        int rate = (int)t.Integer("inference.rate", 4);
        int batch = (int)t.Integer("inference.batch", 8);
        if (rate <= 0 || 4096 % rate != 0) throw t.Error("inference.rate", $"{rate} must divide the 4096 Hz processing rate");
        if (batch <= 0) throw t.Error("inference.batch", "must be positive");
        var addresses = t.OptionalStringList("inference.addresses") ?? [];
        int servers = (int)t.Integer("inference.servers", addresses.Count > 0 ? 0 : 1);
        if (addresses.Count > 0 && t.Has("inference.servers") && servers != 0)
            throw t.Error("inference.servers", "give either external inference.addresses or server nodes to start, not both");
        if (addresses.Count == 0 && servers <= 0) throw t.Error("inference.servers", "must be at least 1 when no inference.addresses are given");
        int clientsPerServer = (int)t.Integer("inference.clients_per_server", 4);
        if (clientsPerServer <= 0) throw t.Error("inference.clients_per_server", "must be positive");
        int gpus = (int)t.Integer("inference.gpus_per_server", 0);
        if (gpus < 0) throw t.Error("inference.gpus_per_server", "must not be negative");
        var inference = new InferenceSpec(t.String("inference.model_repository", "model-repository"),
            t.String("inference.ensemble", "gwe2e"), rate, batch, servers, addresses, clientsPerServer, gpus)
        {
            TlsCa = t.OptionalString("inference.tls_ca"),
            TlsCert = t.OptionalString("inference.tls_cert"),
            TlsKey = t.OptionalString("inference.tls_key"),
            TokenFile = t.OptionalString("inference.token_file"),
            TransportNice = (int)t.Integer("inference.transport_nice", 0),
            ServerRestarts = (int)t.Integer("inference.server_restarts", 3),
        };
        if (inference.ServerRestarts is < 0 or > 100) throw t.Error("inference.server_restarts", $"{inference.ServerRestarts} must be 0 (never restart) to 100");
        if (t.Has("inference.server_restarts") && !inference.StartsServers)
            throw t.Error("inference.server_restarts", "applies to server nodes the workflow starts, not to external inference.addresses");
        if (inference.TransportNice is < 0 or > 19) throw t.Error("inference.transport_nice", $"{inference.TransportNice} must be 0 (off) to 19");
        if (inference.TransportNice > 0 && !inference.StartsServers)
            throw t.Error("inference.transport_nice", "applies to server nodes the workflow starts, not to external inference.addresses");
        if (inference.TlsCa is "") throw t.Error("inference.tls_ca", "must name a PEM file");
        foreach (var key in new[] { "tls_cert", "tls_key", "token_file" })
            if (t.OptionalString($"inference.{key}") is "") throw t.Error($"inference.{key}", key == "token_file" ? "must name a file holding the token" : "must name a PEM file");
        if ((inference.TlsCert is null) != (inference.TlsKey is null))
        {
            string given = inference.TlsCert is null ? "tls_key" : "tls_cert", missing = inference.TlsCert is null ? "tls_cert" : "tls_key";
            throw t.Error($"inference.{given}", $"needs inference.{missing} as well: give the server nodes' certificate and its key together");
        }
        if (inference.TlsCert is not null && !inference.StartsServers)
            throw t.Error("inference.tls_cert", "applies to server nodes the workflow starts, not to external inference.addresses (give their CA with tls_ca)");

        var outputs = new OutputSpec(t.RequiredString("outputs.uri"), t.String("outputs.channel_suffix", "_DEEPCLEAN"),
            t.String("outputs.frame_type", "CLEAN"));
        if (!NodeNames.IsValidToken(outputs.FrameType.Replace("_", "")))
            throw t.Error("outputs.frame_type", "a frame type may only contain letters, digits and '_'");

        var versionText = t.String("condor.min_version", HTCondorVersion.LongTermSupport.ToString());
        var version = HTCondorVersion.TryParse(versionText, out var v) ? v : throw t.Error("condor.min_version", $"'{versionText}' is not a version like 24.0");
        int retries = (int)t.Integer("condor.retries", 3);
        if (retries < 0) throw t.Error("condor.retries", "must not be negative");
        var condor = new CondorSpec(version, retries, (int)t.Integer("condor.max_idle", 1000),
            t.String("condor.executable", "gwrepro"), t.OptionalString("condor.templates"),
            (int)t.Integer("condor.client_cpus", 2), t.String("condor.client_memory", "4GB"), t.String("condor.client_disk", "10GB"),
            (int)t.Integer("condor.server_cpus", 4), t.String("condor.server_memory", "16GB"));

        var barrier = ReadBarrier(t);
        var cleaning = ReadCleaning(t);
        var site = SiteProfile.Read(t);
        var data = new DataSpec(kind, span, cache, bucket, simulation, strictChecksums) { Gaps = gaps };
        if (site.ShouldTransferFiles == "YES" && kind == DataSourceKind.Cache && !GwReprocess.IO.Location.Parse(cache!).IsRooted && data.CacheInRunDirectory() is null)
            throw t.Error("data.cache", $"'{cache}' is not a file inside the run directory: jobs on a transferring site (site.profile = \"{site.Name}\") are sent the cache under the path the workflow names; give one below the workflow's folder, or an absolute path the execute points mount");
        var training = TrainingSpec.Read(t);
        if (training is not null) CheckTraining(t, training, detectors, length, inference, site);
        t.RejectUnknownKeys();
        return new WorkflowConfig(name, source, data, detectors,
            new JobLayout(length, minimum, padding), inference, outputs, site, condor) { Barrier = barrier, Cleaning = cleaning, Training = training };
    }

    private static void CheckTraining(ConfigTable t, TrainingSpec training, List<DetectorSpec> detectors, GpsDuration jobLength, InferenceSpec inference, SiteProfile site)
    {
        if (detectors.FirstOrDefault(d => d.Ensemble is not null) is { } own)
            throw t.Error($"detectors.{own.Ifo}.ensemble", "a detector's own ensemble cannot be combined with [training] (each chunk's clients stream to [inference] ensemble pinned to the chunk's version)");
        if (jobLength > training.Chunk)
            throw t.Error("jobs.length", $"{jobLength} s is longer than training.chunk {training.Chunk} s: a client job must lie in one trained chunk");
        // The servers must see each chunk's model appear: a copy of the repository transferred at their start never would.
        if (site.ShouldTransferFiles == "YES" && !IO.Location.Parse(inference.ModelRepository).IsUrl)
            throw t.Error("inference.model_repository", $"'{inference.ModelRepository}' is transferred to the server nodes when they start, so they would never see the models trained during the run; with [training] give a bucket URL or use a site with a shared filesystem");
    }

    private static BarrierSpec ReadBarrier(ConfigTable t)
    {
        var d = BarrierSpec.Default;
        string modeText = t.String("inference.barrier", "timeout");
        var mode = modeText switch
        {
            "all" => GwReprocess.Jobs.BarrierMode.All,
            "quorum" => GwReprocess.Jobs.BarrierMode.Quorum,
            "timeout" => GwReprocess.Jobs.BarrierMode.TimeoutThenGo,
            _ => throw t.Error("inference.barrier", $"'{modeText}' is not one of all, quorum, timeout"),
        };
        var timeout = t.OptionalDuration("inference.barrier_timeout") ?? d.Timeout;
        if (timeout <= GpsDuration.Zero) throw t.Error("inference.barrier_timeout", "must be a positive number of seconds");
        double quorum = t.Number("inference.barrier_quorum", d.QuorumFraction);
        if (!(quorum > 0 && quorum <= 1)) throw t.Error("inference.barrier_quorum", $"{quorum} must lie in (0, 1] (a fraction of the expected clients)");
        if (t.Has("inference.barrier_quorum") && mode != GwReprocess.Jobs.BarrierMode.Quorum) throw t.Error("inference.barrier_quorum", "only applies with barrier = \"quorum\"");
        long? expected = t.OptionalInteger("inference.barrier_clients");
        if (expected is <= 0) throw t.Error("inference.barrier_clients", "must be positive");
        return new BarrierSpec(mode, (int?)expected, timeout, quorum);
    }

    private static CleaningSpec ReadCleaning(ConfigTable t)
    {
        var d = CleaningSpec.Default;
        double low = t.Number("cleaning.band_low", d.BandLow), high = t.Number("cleaning.band_high", d.BandHigh);
        if (!(low > 0)) throw t.Error("cleaning.band_low", $"{low} must be a positive frequency in Hz");
        if (!(high > low)) throw t.Error(t.Has("cleaning.band_high") ? "cleaning.band_high" : "cleaning.band_low", $"band {low}–{high} Hz: cleaning.band_high must be above cleaning.band_low");
        if (high >= 2048) throw t.Error("cleaning.band_high", $"{high} Hz must be below the 2048 Hz Nyquist frequency of the 4096 Hz processing rate");
        var edge = t.OptionalDuration("cleaning.edge") ?? d.Edge;
        if (edge < GpsDuration.Zero) throw t.Error("cleaning.edge", "must not be negative");
        var causal = t.OptionalDuration("cleaning.causal_latency");
        if (causal is { } c && c <= GpsDuration.Zero) throw t.Error("cleaning.causal_latency", "must be a positive number of seconds");
        var margin = t.OptionalDuration("cleaning.margin") ?? d.Margin;
        if (margin < GpsDuration.Zero) throw t.Error("cleaning.margin", "must not be negative");
        int inflight = (int)t.Integer("cleaning.max_in_flight", d.MaxInFlight);
        if (inflight <= 0) throw t.Error("cleaning.max_in_flight", "must be positive");
        int retries = (int)t.Integer("cleaning.retries", d.Retries);
        if (retries < 0) throw t.Error("cleaning.retries", "must not be negative");
        GwReprocess.Dsp.WitnessHighpass? highpass = null;
        if (t.Has("cleaning.witness_highpass"))
        {
            double cutoff = t.Number("cleaning.witness_highpass", 0);
            if (!(cutoff > 0 && cutoff < low)) throw t.Error("cleaning.witness_highpass", $"{cutoff} Hz must be a positive frequency below cleaning.band_low ({low} Hz)");
            long order = t.Integer("cleaning.witness_highpass_order", GwReprocess.Dsp.WitnessHighpass.DefaultOrder);
            if (order < 1 || order > GwReprocess.Dsp.WitnessHighpass.MaxOrder)
                throw t.Error("cleaning.witness_highpass_order", $"{order} must be 1..{GwReprocess.Dsp.WitnessHighpass.MaxOrder}");
            highpass = new GwReprocess.Dsp.WitnessHighpass(cutoff, (int)order);
        }
        else if (t.Has("cleaning.witness_highpass_order")) throw t.Error("cleaning.witness_highpass_order", "needs cleaning.witness_highpass (the cutoff in Hz)");
        return new CleaningSpec(low, high, edge, causal, margin, inflight, retries) { WitnessHighpass = highpass };
    }

    private static ChannelName Channel(ConfigTable t, string key, string ifo, string? value = null)
    {
        string text = value ?? t.RequiredString(key);
        ChannelName c;
        try { c = new ChannelName(text); }
        catch (ArgumentException e) { throw t.Error(key, e.Message); }
        if (c.Ifo != ifo) throw t.Error(key, $"channel '{text}' does not belong to {ifo}");
        return c;
    }
}
