namespace GwReprocess.Frames.Gwf;

/// <summary>A GWF file that cannot be read as given: truncated, corrupt, failing a checksum, or lacking what was asked for.</summary>
/// <remarks>The message is one line naming the file and, when known, the structure, its byte offset and the channel.</remarks>
public sealed class GwfFormatException : BadInputException
{
    public GwfFormatException(string file, string problem, string? structure = null, long? offset = null, string? channel = null, Exception? inner = null)
        : base(Compose(file, problem, structure, offset, channel), inner ?? new InvalidDataException(problem))
    {
        File = file;
        Problem = problem;
        Structure = structure;
        Offset = offset;
        Channel = channel;
    }

    /// <summary>The file (path or URL) being read.</summary>
    public string File { get; }

    /// <summary>What was wrong, without the location.</summary>
    public string Problem { get; }

    /// <summary>The GWF structure (FrVect, FrTOC, ...) being read, when known.</summary>
    public string? Structure { get; }

    /// <summary>Byte offset of that structure in the file, when known.</summary>
    public long? Offset { get; }

    /// <summary>The channel being read, when known.</summary>
    public string? Channel { get; }

    private static string Compose(string file, string problem, string? structure, long? offset, string? channel)
    {
        var sb = new System.Text.StringBuilder(file);
        if (structure is not null) sb.Append(": ").Append(structure);
        if (offset is long o) sb.Append(structure is null ? ": " : " ").Append("at byte ").Append(o);
        if (channel is not null) sb.Append(structure is null && offset is null ? ": " : ", ").Append("channel ").Append(channel);
        sb.Append(": ").Append(problem);
        return sb.ToString();
    }
}
