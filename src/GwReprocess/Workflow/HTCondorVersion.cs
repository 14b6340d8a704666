using System.Globalization;

namespace GwReprocess.Workflow;

/// <summary>An HTCondor release (major.minor.patch), used to emit only what the target access point understands.</summary>
public readonly record struct HTCondorVersion(int Major, int Minor, int Patch = 0) : IComparable<HTCondorVersion>
{
    /// <summary>The long-term-support series on IGWN submit hosts (24.0 LTS).</summary>
    public static HTCondorVersion LongTermSupport => new(24, 0);

    /// <summary>PROVISIONER nodes first appeared in 8.9.7.</summary>
    public static HTCondorVersion Provisioner => new(8, 9, 7);

    /// <summary>SERVICE nodes first appeared in 9.2.0.</summary>
    public static HTCondorVersion Service => new(9, 2, 0);

    public static bool TryParse(string text, out HTCondorVersion version)
    {
        version = default;
        var parts = text.Trim().Split('.');
        if (parts.Length is < 2 or > 3) return false;
        var n = new int[3];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out n[i])) return false;
        version = new HTCondorVersion(n[0], n[1], n[2]);
        return true;
    }

    public int CompareTo(HTCondorVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public static bool operator <(HTCondorVersion a, HTCondorVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(HTCondorVersion a, HTCondorVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(HTCondorVersion a, HTCondorVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(HTCondorVersion a, HTCondorVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => Patch == 0 ? $"{Major}.{Minor}" : $"{Major}.{Minor}.{Patch}";
}
