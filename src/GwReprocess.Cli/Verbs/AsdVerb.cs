using System.Text;
using CommandLine;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.IO;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro asd</c>: a channel's amplitude spectral density, as gwpy's <c>TimeSeries.asd</c> computes it.</summary>
public sealed class AsdVerb : CliVerb
{
    public override string Name => "asd";
    public override string Summary => "Compute a channel's amplitude spectral density (Welch, as gwpy) to CSV.";

    public sealed class Options : CommonOptions
    {
        [Value(0, MetaName = "FILE|CACHE", Required = true, HelpText = "A frame file (.gwf, .hdf5) or a LAL frame cache.")]
        public string Input { get; set; } = "";

        [Option('c', "channel", Required = true, HelpText = "Channel name, e.g. H1:GDS-CALIB_STRAIN.")]
        public string Channel { get; set; } = "";

        [Option("start", HelpText = "GPS start in seconds (default: start of the data).")]
        public string? Start { get; set; }

        [Option("end", HelpText = "GPS end in seconds, exclusive (default: end of the data).")]
        public string? End { get; set; }

        [Option("fftlength", Default = 1.0, HelpText = "Welch segment length in seconds.")]
        public double FftLength { get; set; }

        [Option("overlap", Default = 0.5, HelpText = "Overlap between segments in seconds (gwpy's convention).")]
        public double Overlap { get; set; }

        [Option("method", Default = SpectralAverage.Median, HelpText = "Averaging: median (with SciPy's bias correction) or mean.")]
        public SpectralAverage Method { get; set; }

        [Option("resample", HelpText = "Resample to this rate in Hz before the ASD (e.g. 4096).")]
        public double? Resample { get; set; }

        [Option('o', "out", HelpText = "CSV file (frequency,asd), written atomically; default standard output.")]
        public string? Out { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunAsync<Options>(Name, args, o => RunAsync(o, cancellationToken));

    private static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        var channel = ChannelName.Parse(o.Channel);
        var (source, span) = await FrameInput.OpenAsync(o.Input, o.Start, o.End, new FrameSourceOptions(), ct);
        var series = (await source.ReadAsync([channel.Value], span, ct)).Channels[0];
        if (o.Resample is double hz)
        {
            if (!(hz > 0)) throw new BadInputException($"--resample {hz}: a rate must be a positive number of Hz");
            series = series.Resample(new SampleRate(hz));
        }
        var asd = series.Asd(o.FftLength, o.Overlap, o.Method);
        if (o.Out is null)
        {
            asd.WriteCsv(Console.Out);
            return ExitCodes.Success;
        }
        await AtomicFile.WriteAsync(o.Out, async (stream, token) =>
        {
            await using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            asd.WriteCsv(w);
            await w.FlushAsync(token);
        }, ct);
        if (!o.Quiet) Console.Error.WriteLine($"wrote {o.Out}: {channel} over {span}, {o.FftLength} s segments, {o.Overlap} s overlap, {o.Method} average");
        return ExitCodes.Success;
    }
}
