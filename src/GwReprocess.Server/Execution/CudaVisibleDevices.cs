using System.Globalization;

namespace GwReprocess.Server.Execution;

/// <summary>The GPUs a process sees through <c>CUDA_VISIBLE_DEVICES</c>, numbered as CUDA numbers them (0, 1, … in the order listed).</summary>
/// <remarks>
/// CUDA's rules: unset, every device is visible; set but empty, none is; otherwise a comma-separated list of
/// device indices or UUIDs (<c>GPU-…</c>, any unique prefix), and the first entry that names no device (out of
/// range, unknown, ambiguous, repeated or not a number) ends the list: only the devices before it are visible.
/// </remarks>
public static class CudaVisibleDevices
{
    /// <summary>The environment variable CUDA reads.</summary>
    public const string Variable = "CUDA_VISIBLE_DEVICES";

    /// <summary>The visible devices, position = CUDA device id, from the node's devices and the variable's value (null when unset).</summary>
    public static IReadOnlyList<GpuDevice> Apply(IReadOnlyList<GpuDevice> physical, string? value)
    {
        if (value is null) return physical;
        var visible = new List<GpuDevice>();
        foreach (var raw in value.Split(','))
        {
            var entry = raw.Trim();
            var device = Find(physical, entry);
            if (device is null || visible.Contains(device)) break;
            visible.Add(device);
        }
        return visible;
    }

    private static GpuDevice? Find(IReadOnlyList<GpuDevice> physical, string entry)
    {
        if (entry.Length == 0) return null;
        if (entry.StartsWith("GPU-", StringComparison.OrdinalIgnoreCase))
        {
            GpuDevice? match = null;
            foreach (var d in physical)
            {
                if (!d.Uuid.StartsWith(entry, StringComparison.OrdinalIgnoreCase)) continue;
                if (match is not null) return null;
                match = d;
            }
            return match;
        }
        if (!int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return null;
        foreach (var d in physical)
            if (d.Index == index) return d;
        return null;
    }
}
