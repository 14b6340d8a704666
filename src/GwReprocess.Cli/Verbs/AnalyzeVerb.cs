using System.Globalization;
using System.Text.Json;
using CommandLine;
using GwReprocess.Analysis;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro analyze</c>: throughput and cost of runs, and plans for scaling studies.</summary>
public sealed class AnalyzeVerb : CliVerb
{
    public override string Name => "analyze";
    public override string Summary => "Seconds of data per second and cost per node count: run reports, cost arithmetic, scaling plans.";

    public abstract class CostModelOptions : CommonOptions
    {
        [Option("cost-model", HelpText = CostModelHelp)]
        public string? CostModel { get; set; }

        [Option("gpu", Default = "gpu-t4", HelpText = "Cost-model resource a GPU is priced as (gpu-t4 in gcp-2021 and owned-cluster, gpu-l4 in gcp-ondemand-2026-05).")]
        public string Gpu { get; set; } = "gpu-t4";

        [Option("node-vcpu", Default = "vcpu", HelpText = "Cost-model resource a server node's vCPU is priced as (clients stay vcpu): vcpu-g2 for an L4 node in gcp-ondemand-2026-05.")]
        public string NodeVcpu { get; set; } = "vcpu";

        [Option("gpus-per-node", Default = 4, HelpText = "GPUs per server node.")]
        public int GpusPerNode { get; set; }

        [Option("vcpus-per-node", Default = 32, HelpText = "vCPUs per server node.")]
        public int VcpusPerNode { get; set; }

        [Option("vcpus-per-client", Default = 8, HelpText = "vCPUs each client uses (a VM in the GKE runs, an HTCondor job's request_cpus on a pool).")]
        public int VcpusPerClient { get; set; }

        [Option("json", HelpText = "Print the figures as JSON.")]
        public bool Json { get; set; }

        internal CostModel Load() => Analysis.CostModel.Load(CostModel);
    }

    private const string CostModelHelp = "Cost table: a CSV file (resource,unit_price_per_hour,unit,provider,date,source) or the name of a shipped one "
        + "(gcp-2021, gcp-ondemand-2026-05, owned-cluster; see analysis/cost-models/README.md). Default: gcp-2021, the Google Cloud prices of the published runs.";

    [Verb("plan", HelpText = "Predict throughput and cost at several GPU counts from a measured per-GPU (and per-client) rate.")]
    public sealed class PlanOptions : CostModelOptions
    {
        [Option("gpus", Required = true, Separator = ',', HelpText = "GPU counts, e.g. 4,40,80.")]
        public IEnumerable<int> Gpus { get; set; } = [];

        [Option("per-gpu-rate", Required = true, HelpText = "Measured seconds of data per second one GPU sustains (s'/s).")]
        public double PerGpuRate { get; set; }

        [Option("per-client-rate", HelpText = "Measured seconds of data per second one client feeds; omit when clients do not limit.")]
        public double? PerClientRate { get; set; }

        [Option("clients-per-gpu", Default = 25, HelpText = "Clients per GPU (the published HEPCloud runs: 25).")]
        public int ClientsPerGpu { get; set; }
    }

    [Verb("cost", HelpText = "Cost per hour, per second and per year of data of a deployment at a measured throughput.")]
    public sealed class CostOptions : CostModelOptions
    {
        [Option("nodes", Default = 1, HelpText = "Server nodes.")]
        public int Nodes { get; set; }

        [Option("clients-per-node", Default = 4, HelpText = "Clients per server node.")]
        public int ClientsPerNode { get; set; }

        [Option("throughput", Required = true, HelpText = "Measured seconds of data per second (s'/s) of the whole deployment.")]
        public double Throughput { get; set; }
    }

    [Verb("owned", HelpText = "Unit price per hour of owned hardware (purchase amortised + power × PUE × electricity price), for an owned-cluster cost table.")]
    public sealed class OwnedOptions : CommonOptions
    {
        [Option("purchase", Required = true, HelpText = "Purchase price of the item (a GPU card, a CPU), in the table's currency.")]
        public double Purchase { get; set; }

        [Option("units", Default = 1, HelpText = "Priced units the item provides: 1 for a GPU, hardware threads (vCPUs) for a CPU.")]
        public int Units { get; set; }

        [Option("years", Default = 5.0, HelpText = "Amortisation period in years.")]
        public double Years { get; set; }

        [Option("watts", Required = true, HelpText = "Power draw of the item in watts (e.g. its TDP).")]
        public double Watts { get; set; }

        [Option("pue", Default = 1.58, HelpText = "Facility power usage effectiveness (Uptime Institute 2023 industry average: 1.58).")]
        public double Pue { get; set; }

        [Option("kwh-price", Required = true, HelpText = "Electricity price per kWh.")]
        public double KwhPrice { get; set; }
    }

    [Verb("scrape", HelpText = "Poll inference servers' Prometheus /metrics endpoints and append differenced counters to a CSV.")]
    public sealed class ScrapeOptions : CommonOptions
    {
        [Option("endpoint", Required = true, Separator = ',', HelpText = "Metrics URLs, e.g. http://127.0.0.1:8002/metrics (comma-separated or repeated).")]
        public IEnumerable<string> Endpoints { get; set; } = [];

        [Option("interval", Default = 1.0, HelpText = "Seconds between scrapes.")]
        public double Interval { get; set; }

        [Option('o', "out", Required = true, HelpText = "CSV to append to (created with a header when new).")]
        public string Out { get; set; } = "";

        [Option("duration", HelpText = "Stop after this many seconds (default: until cancelled or --until-file appears).")]
        public double? Duration { get; set; }

        [Option("until-file", HelpText = "Stop once this file exists (e.g. the run's rendezvous stop marker).")]
        public string? UntilFile { get; set; }
    }

    [Verb("report", isDefault: true, HelpText = "gwrepro analyze RUNDIR [RUNDIR ...]: throughput, cost, coverage, plots and report.md/report.html of one or more runs; also writes each run's output index (OUT/cleaned/IFO.lcf, OUT/cleaned/IFO-cleaned-segments.txt, OUT/scores/index.lcf).")]
    public sealed class ReportOptions : CommonOptions
    {
        [Value(0, MetaName = "RUNDIR", Min = 1, Required = true, HelpText = "Run directories written by gwrepro dag or gwrepro run (several: a scaling comparison).")]
        public IEnumerable<string> RunDirectories { get; set; } = [];

        [Option("cost-model", HelpText = CostModelHelp)]
        public string? CostModel { get; set; }

        [Option("gpu", Default = "gpu-t4", HelpText = "Cost-model resource the run's GPUs are priced as (gpu-t4 in gcp-2021 and owned-cluster, gpu-l4 in gcp-ondemand-2026-05).")]
        public string Gpu { get; set; } = "gpu-t4";

        [Option("node-vcpu", Default = "vcpu", HelpText = "Cost-model resource a server node's vCPU is priced as (clients stay vcpu): vcpu-g2 for an L4 node in gcp-ondemand-2026-05.")]
        public string NodeVcpu { get; set; } = "vcpu";

        [Option('o', "out", HelpText = "Directory for report.md, report.html, summary.json and the plots (default: RUNDIR/report).")]
        public string? Out { get; set; }

        [Option("metrics", HelpText = "Where the run's metrics are, when not the workflow's outputs.uri (a path or bucket URI).")]
        public string? Metrics { get; set; }

        [Option("bin", HelpText = "Width in seconds of the throughput bins (default: about 50 bins per run).")]
        public double? Bin { get; set; }

        [Option("asd-frame", HelpText = "GPS time inside the cleaned frame whose cleaned/raw ASD ratio is plotted (default: the first cleaned frame).")]
        public string? AsdFrame { get; set; }

        [Option("injections", HelpText = "Injection table (gwrepro simulate's injections.csv) to mark on the scores plot (default: the simulated frames directory's).")]
        public string? Injections { get; set; }

        [Option("compare", HelpText = "OTHER[=label] ...: other searches' scores over the same injections (e.g. the template bank beside BBHnet), each at its own "
            + "99.9th-percentile threshold, beside the first RUNDIR's in efficiency.png, roc.png and the tables. OTHER is a run directory (its workflow.toml's "
            + "[outputs] uri) or an outputs location (a directory or bucket URI holding scores/); label defaults to the run's name or the last path segment. "
            + "Its scored span must overlap the run's. Give it after RUNDIR: it takes every value up to the next option.")]
        public IEnumerable<string> Compare { get; set; } = [];

        [Option("stop-servers", HelpText = "Rendezvous prefix whose servers should stop once the report is written (the DAG's FINAL node passes it).")]
        public string? StopServers { get; set; }

        [Option("json", HelpText = "Print the summary as JSON on standard output.")]
        public bool Json { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args, [typeof(ReportOptions), typeof(PlanOptions), typeof(CostOptions), typeof(OwnedOptions), typeof(ScrapeOptions)], options => options switch
        {
            ScrapeOptions o => ScrapeAsync(o, cancellationToken),
            PlanOptions o => Task.FromResult(Plan(o)),
            CostOptions o => Task.FromResult(Cost(o)),
            OwnedOptions o => Task.FromResult(Owned(o)),
            ReportOptions o => ReportAsync(o, cancellationToken),
            _ => throw new InvalidOperationException(),
        });

    private static async Task<int> ScrapeAsync(ScrapeOptions o, CancellationToken ct)
    {
        if (!(o.Interval > 0)) throw new BadInputException("--interval must be a positive number of seconds");
        var endpoints = o.Endpoints.Select(e => Uri.TryCreate(e, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
            ? u : throw new BadInputException($"--endpoint '{e}' is not an http(s) URL")).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(Math.Max(2, o.Interval)) };
        var scraper = new MetricsScraper(endpoints, TimeSpan.FromSeconds(o.Interval), http);
        int rows;
        try { rows = await scraper.RunAsync(o.Out, o.UntilFile, o.Duration is double d ? TimeSpan.FromSeconds(d) : null, ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { rows = -1; }
        if (!o.Quiet) Console.Error.WriteLine(rows >= 0 ? $"{rows} row(s) appended to {o.Out}" : $"stopped; rows so far are in {o.Out}");
        return ExitCodes.Success;
    }

    private static async Task<int> ReportAsync(ReportOptions o, CancellationToken ct)
    {
        try
        {
            var model = Analysis.CostModel.Load(o.CostModel);
            var dirs = o.RunDirectories.ToList();
            var runs = new List<RunMetrics>();
            foreach (var d in dirs) runs.Add(await RunMetrics.LoadAsync(d, o.Metrics, ct));
            if (o.StopServers is not null && runs.Count == 1 && runs[0].Servers.Count == 0)
            {
                // Nobody scraped the servers: read their cumulative counters once, before they are stopped, so the
                // report can still check the clients' s'/s against inferences / Δt / r.
                var rows = await ServerStatistics.CollectAsync(o.StopServers, o.Quiet ? null : line => Console.Error.WriteLine(line), TimeSpan.FromSeconds(10), ct);
                if (rows.Count > 0)
                {
                    await ServerStatistics.WriteAsync(runs[0].OutputLocation, rows, ct);
                    runs[0] = runs[0] with { Servers = rows };
                }
            }
            GwReprocess.Time.GpsTime? asdFrame = null;
            if (o.AsdFrame is not null)
                asdFrame = GwReprocess.Time.GpsTime.TryParse(o.AsdFrame, out var t) ? t : throw new BadInputException($"--asd-frame '{o.AsdFrame}' is not a GPS time");
            var summaries = new List<RunSummary>();
            foreach (var r in runs)
                summaries.Add(await RunReport.AddOutputChecksAsync(RunReport.Summarise(r, model, o.Bin, o.Gpu, o.NodeVcpu), r, asdFrame, o.Injections, cancellationToken: ct));
            var compare = o.Compare.ToList();
            if (compare.Count > 0) summaries[0] = await RunReport.AddComparisonAsync(summaries[0], runs[0], compare, ct);
            string outDir = o.Out ?? Path.Combine(dirs[0], "report");
            await ReportWriter.WriteAsync(runs, summaries, outDir, ct);
            if (o.Json) Console.Out.Write(ReportWriter.Json(summaries));
            else if (!o.Quiet)
            {
                foreach (var s in summaries)
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{s.Name}: {s.DataSeconds:F0} s of data in {s.WallSeconds:F1} s = {s.DataSecondsPerSecond:G4} s'/s (median binned {s.BinnedThroughput.Median:G4}){(s.ServerDataSecondsPerSecond is double v ? $"; servers say {v:G4}" : "")}"));
                foreach (var s in summaries)
                {
                    Console.Out.WriteLine(ReportWriter.ThroughputCheck(s));
                    if (s.Cleaning is { } cl)
                        foreach (var d in cl.Detectors)
                        {
                            string features = d.Features.Count == 0 ? "" : FormattableString.Invariant(
                                $"; sidebands {string.Join(", ", d.Features.Where(x => x.Kind == "sideband").Select(x => FormattableString.Invariant($"{x.Hz:G4} Hz {x.Ratio:G2}")))}; {d.BroadbandOutside10Percent} of {d.BroadbandBands} broadband 1 Hz bands outside ±10 %");
                            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{s.Name} {d.Ifo}: ASD cleaned/raw over GPS {cl.FrameGps:F0} + {cl.FrameSeconds:G6} s: {d.RatioAt60Hz:G3} at 60 Hz, median {d.MedianRatio20To500Hz:G4} over 20–500 Hz{features}"));
                        }
                    if (s.Search is { } x)
                        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{s.Name}: {x.LoudAboveThreshold} of {x.Loud} injections with network SNR ≥ {x.LoudSnr:G3} score above {x.Threshold:G4} (the {InjectionRecovery.ThresholdPercentile}th percentile of {x.BackgroundScores} scores away from injections)"));
                    foreach (string line in SensitivityLines(s)) Console.Out.WriteLine(line);
                    foreach (var d in s.Coverage ?? [])
                        Console.Out.WriteLine(d.StrainOnly
                            ? FormattableString.Invariant($"{s.Name} {d.Ifo}: {d.SearchedSeconds:F0} s searched of {d.AnalyzableSeconds:F0} s analyzable, strain-only (nothing cleaned) ({d.SegmentEdgeSeconds:F0} s at segment edges, {d.FailedJobSeconds:F0} s in failed or missing jobs); scores {OutputCatalog.ScoresCacheName}")
                            : FormattableString.Invariant($"{s.Name} {d.Ifo}: {d.CleanedSeconds:F0} s cleaned of {d.AnalyzableSeconds:F0} s analyzable ({d.SegmentEdgeSeconds:F0} s at segment edges, {d.FailedJobSeconds:F0} s in failed or missing jobs); cache {d.Cache}, segments {d.SegmentFile}"));
                    if (s.CoverageNote is not null) Console.Out.WriteLine($"{s.Name}: {s.CoverageNote}");
                    if (s.CleaningNote is not null) Console.Out.WriteLine($"{s.Name}: {s.CleaningNote}");
                    if (s.SearchNote is not null) Console.Out.WriteLine($"{s.Name}: {s.SearchNote}");
                }
                Console.Out.WriteLine($"report: {Path.GetFullPath(Path.Combine(outDir, "report.html"))}");
            }
            return ExitCodes.Success;
        }
        finally
        {
            // The FINAL node stops the servers even when the analysis fails: they must not idle on GPUs.
            if (o.StopServers is not null) await StopServersAsync(o.StopServers, ct);
        }
    }

    /// <summary>The false-alarm rate of each search's threshold and its efficiency over the SNR bins, one line each.</summary>
    private static IEnumerable<string> SensitivityLines(RunSummary s)
    {
        var searches = s.Comparison is { } cmp ? cmp.Searches.Select(x => (x.Label, x.Sensitivity)).ToList()
            : s.Sensitivity is { } one ? [(s.Name, one)] : [];
        foreach (var (label, x) in searches)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{label}: threshold {x.Threshold:G4}: {x.BackgroundEvents} background events (clusters of consecutive above-threshold windows) in {x.LivetimeHours:G4} h = {x.FarPerHour:G4} per hour (naive: FAP {x.NaiveFap:G3} × {x.WindowsPerHour:G6} windows/h = {x.NaiveFarPerHour:G4} per hour)");
            if (x.InjectionsScored > 0)
                yield return $"{label}: efficiency by network SNR{(s.Comparison is { } c ? $" ({c.CommonInjections} injections every search scored)" : "")}: "
                    + string.Join(", ", x.Efficiency.Where(b => b.Total > 0).Select(b => $"{b.Label} {b.Found}/{b.Total}"));
        }
    }

    private static async Task StopServersAsync(string rendezvous, CancellationToken ct)
    {
        var (bucket, prefix) = GwReprocess.Storage.BucketFactory.Open(rendezvous);
        using (bucket)
        {
            string key = GwReprocess.Storage.BucketUri.AsPrefix(prefix) + "stop";
            await bucket.PutIfAbsentAsync(key, System.Text.Encoding.UTF8.GetBytes($"stop requested by gwrepro analyze at {DateTimeOffset.UtcNow:O}"), ct);
        }
    }

    private static int Plan(PlanOptions o)
    {
        var model = o.Load();
        var points = ScalingPlanner.Plan(o.Gpus, o.PerGpuRate, o.PerClientRate, o.ClientsPerGpu, o.GpusPerNode, o.VcpusPerNode, o.VcpusPerClient, o.Gpu, model, o.NodeVcpu);
        if (o.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { cost_model = model.Name, points }, JsonOptions));
            return ExitCodes.Success;
        }
        Console.Out.WriteLine($"cost model {model.Name}; {o.GpusPerNode} GPUs ({o.Gpu}) and {o.VcpusPerNode} vCPUs ({o.NodeVcpu}) per node, {o.ClientsPerGpu} clients per GPU of {o.VcpusPerClient} vCPU(s)");
        Console.Out.WriteLine($"{"GPUs",6} {"clients",8} {"s'/s",10} {"limit",8} {"$/h",10} {"$/s'",12} {"vCPU-h/s'",12} {"$/year of data",15} {"h/year of data",15}");
        foreach (var p in points)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Gpus,6} {p.Clients,8} {p.DataSecondsPerSecond,10:G4} {p.Bottleneck,8} {p.Cost.PerHour,10:F2} {p.Cost.PerDataSecond,12:E3} {p.Cost.VcpuHoursPerDataSecond,12:E3} {p.Cost.PerDataYear,15:F0} {p.WallHoursPerDataYear,15:F1}"));
        return ExitCodes.Success;
    }

    private static int Owned(OwnedOptions o)
    {
        var h = new OwnedHardware(o.Purchase, o.Units, o.Years, o.Watts, o.Pue, o.KwhPrice);
        h.Validate();
        var c = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(c, $"capital:  {o.Purchase:G} / {o.Units} / ({o.Years:G} y × {OwnedHardware.HoursPerYear:G} h) = {h.CapitalPerUnitHour:G6} per unit-hour"));
        Console.Out.WriteLine(string.Create(c, $"energy:   {o.Watts:G} W / {o.Units} / 1000 × PUE {o.Pue:G} × {o.KwhPrice:G} per kWh = {h.EnergyPerUnitHour:G6} per unit-hour"));
        Console.Out.WriteLine(string.Create(c, $"total:    {h.PerUnitHour:G6} per unit-hour"));
        return ExitCodes.Success;
    }

    private static int Cost(CostOptions o)
    {
        var model = o.Load();
        if (o.Nodes <= 0) throw new BadInputException("--nodes must be positive");
        var deployment = new Deployment(o.Nodes, o.GpusPerNode, o.Gpu, o.VcpusPerNode, o.ClientsPerNode, o.VcpusPerClient, o.NodeVcpu);
        var cost = deployment.Cost(model, o.Throughput);
        if (o.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { cost_model = model.Name, deployment, throughput = o.Throughput, cost }, JsonOptions));
            return ExitCodes.Success;
        }
        Console.Out.WriteLine($"cost model:        {model.Name}");
        Console.Out.WriteLine($"deployment:        {o.Nodes} node(s) × ({o.GpusPerNode} {o.Gpu} + {o.VcpusPerNode} {o.NodeVcpu}) + {deployment.Clients} client(s) × {o.VcpusPerClient} vcpu");
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cost per hour:     {cost.PerHour:F6}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput:        {o.Throughput:G6} s of data per s ({1 / o.Throughput:G6} s per s of data)"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per s of data:     {cost.PerDataSecond:E6} ({cost.VcpuHoursPerDataSecond:E6} vCPU-hours)"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per year of data:  {cost.PerDataYear:F2}"));
        return ExitCodes.Success;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
