using GwReprocess.Frames.Gwf;

namespace GwReprocess.Cli;

/// <summary>Prints GWF checksum warnings to stderr, one line per file and structure however often the file is opened.</summary>
/// <remarks>A frame source opens a file once per chunk it reads, so the reader reports the same structure more than once.</remarks>
public sealed class ChecksumWarningPrinter(string verb)
{
    private readonly HashSet<(string File, string Structure)> _printed = [];

    /// <summary>Prints <paramref name="warning"/> unless its file and structure were already printed.</summary>
    public void Report(GwfChecksumWarning warning)
    {
        lock (_printed)
        {
            if (!_printed.Add((warning.File, warning.Structure))) return;
            Console.Error.WriteLine($"gwrepro {verb}: warning: {warning}");
        }
    }
}
