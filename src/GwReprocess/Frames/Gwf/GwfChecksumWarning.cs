namespace GwReprocess.Frames.Gwf;

/// <summary>A structure the reader does not need for data (dictionary FrSH/FrSE, FrHistory) whose checksum fails; the file was read anyway.</summary>
/// <param name="File">The file (path or URL) as opened.</param>
/// <param name="Structure">The structure's class name, e.g. <c>FrSE</c>.</param>
/// <param name="Offset">Byte offset of the structure in the file.</param>
/// <param name="Stored">The checksum the file stores.</param>
/// <param name="Computed">The checksum of the bytes as read.</param>
public sealed record GwfChecksumWarning(string File, string Structure, long Offset, uint Stored, uint Computed)
{
    /// <summary>One line naming the file, structure and offset.</summary>
    public override string ToString() =>
        $"{File}: {Structure} at byte {Offset}: checksum mismatch (stored 0x{Stored:X8}, computed 0x{Computed:X8}); the data does not depend on it and was read";
}
