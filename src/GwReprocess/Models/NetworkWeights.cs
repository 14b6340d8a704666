namespace GwReprocess.Models;

/// <summary>Trained values for a network's initializers, handed to <see cref="NetworkBuilder"/> in the order it creates them.</summary>
/// <remarks>
/// Order rather than names: the builder numbers its initializer names, while a trainer names parameters by module path.
/// Each entry still carries its trainer-side name and is checked for length, so a layer list that drifts from the
/// builder's fails with both names instead of loading weights into the wrong layer.
/// </remarks>
public sealed class NetworkWeights
{
    private readonly IReadOnlyList<(string Name, float[] Values)> _tensors;
    private int _next;

    /// <summary>Wraps tensors in the builder's creation order: per conv weight then bias; per BatchNorm scale, shift, running mean, running variance.</summary>
    public NetworkWeights(IReadOnlyList<(string Name, float[] Values)> tensors) => _tensors = tensors;

    /// <summary>Number of tensors not yet taken.</summary>
    public int Remaining => _tensors.Count - _next;

    /// <summary>The next tensor, which must have <paramref name="count"/> values; <paramref name="initializer"/> names the builder's side in errors.</summary>
    public float[] Take(string initializer, int count)
    {
        if (_next >= _tensors.Count)
            throw new InvalidOperationException($"trained weights ran out at initializer '{initializer}' ({_tensors.Count} tensors given)");
        var (name, values) = _tensors[_next++];
        if (values.Length != count)
            throw new InvalidOperationException($"trained tensor '{name}' has {values.Length} values; initializer '{initializer}' takes {count}");
        return values;
    }
}
