namespace GwReprocess.Data;

/// <summary>An IGWN channel name such as <c>H1:GDS-CALIB_STRAIN</c>: an interferometer prefix and a name.</summary>
public readonly record struct ChannelName
{
    /// <summary>The full name as written ("H1:GDS-CALIB_STRAIN").</summary>
    public string Value { get; }

    public ChannelName(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException("a channel name must not be empty", nameof(value));
        foreach (char c in value)
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                throw new ArgumentException($"channel name '{value}' contains whitespace or control characters", nameof(value));
        Value = value;
    }

    /// <summary>Validates user input, reporting a bad name as <see cref="BadInputException"/>.</summary>
    public static ChannelName Parse(string value)
    {
        try { return new ChannelName(value); }
        catch (ArgumentException e) { throw new BadInputException(e.Message); }
    }

    /// <summary>The interferometer prefix ("H1"), or empty when the name has none.</summary>
    public string Ifo => Value.IndexOf(':') is > 0 and var i ? Value[..i] : "";

    /// <summary>The part after the prefix ("GDS-CALIB_STRAIN").</summary>
    public string Name => Value.IndexOf(':') is >= 0 and var i ? Value[(i + 1)..] : Value;

    /// <summary>The same channel with a suffix on its name, as DeepClean renames its output.</summary>
    public ChannelName WithSuffix(string suffix) => new(Value + suffix);

    public static implicit operator string(ChannelName c) => c.Value;

    public override string ToString() => Value;
}
