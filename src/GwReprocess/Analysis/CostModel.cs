using System.Globalization;

namespace GwReprocess.Analysis;

/// <summary>One priced resource of a cost table: a vCPU-hour, a GPU-hour of a model; <paramref name="Source"/> says where the figure comes from.</summary>
public sealed record ResourcePrice(string Resource, double UnitPricePerHour, string Unit, string Provider, string Date, string Source = "");

/// <summary>A price table read from <c>analysis/cost-models/*.csv</c>.</summary>
public sealed class CostModel
{
    private readonly Dictionary<string, ResourcePrice> _prices;

    public CostModel(string name, IEnumerable<ResourcePrice> prices)
    {
        Name = name;
        _prices = new Dictionary<string, ResourcePrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in prices) _prices[p.Resource] = p;
        if (!_prices.ContainsKey("vcpu")) throw new BadInputException($"{name}: a cost model needs a 'vcpu' row (costs are also reported in vCPU-hours)");
    }

    /// <summary>The table's name (its file name), for reports.</summary>
    public string Name { get; }

    public IReadOnlyCollection<ResourcePrice> Prices => _prices.Values;

    /// <summary>Price of one vCPU-hour: the unit of the "CPU-hour" cost figures the published work reports.</summary>
    public double VcpuHour => _prices["vcpu"].UnitPricePerHour;

    /// <summary>Price per hour of a resource; a missing one is an error naming the table and resource.</summary>
    public double PricePerHour(string resource) =>
        _prices.TryGetValue(resource, out var p) ? p.UnitPricePerHour
            : throw new BadInputException($"{Name}: no price for resource '{resource}' (has: {string.Join(", ", _prices.Keys)})");

    /// <summary>The 2021 Google Cloud prices of the published runs (analysis/cost-models/gcp-2021.csv, carried in the binary).</summary>
    public static CostModel Published2021() => Shipped("gcp-2021");

    private const string ResourcePrefix = "cost-models/";

    /// <summary>Names of the tables in analysis/cost-models/ that the binary carries (e.g. <c>gcp-2021</c>, <c>gcp-ondemand-2026-05</c>).</summary>
    public static IReadOnlyList<string> ShippedNames { get; } = typeof(CostModel).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".csv", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".csv".Length]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>A table the binary carries, by name with or without <c>.csv</c>.</summary>
    public static CostModel Shipped(string name)
    {
        string file = name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? name : name + ".csv";
        using var stream = typeof(CostModel).Assembly.GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new BadInputException($"{name}: no shipped cost model of that name (shipped: {string.Join(", ", ShippedNames)})");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd().Split('\n'), file);
    }

    /// <summary>What <c>--cost-model</c> names: an existing CSV file, else a shipped table's name; null is the 2021 default.</summary>
    public static CostModel Load(string? pathOrName)
    {
        if (pathOrName is null) return Published2021();
        if (File.Exists(pathOrName)) return Read(pathOrName);
        string bare = pathOrName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? pathOrName[..^4] : pathOrName;
        // A path that does not exist stays a missing-file error; only a bare name can mean a shipped table.
        if (bare.IndexOfAny(['/', '\\']) < 0 && ShippedNames.Contains(bare, StringComparer.Ordinal)) return Shipped(bare);
        throw new BadInputException($"{pathOrName}: no such cost model file, nor a shipped table (shipped: {string.Join(", ", ShippedNames)})");
    }

    /// <summary>Reads a cost table; errors name the file and line.</summary>
    public static CostModel Read(string path)
    {
        return Parse(InputFile.ReadAllLines(path, "cost model"), path);
    }

    private static CostModel Parse(string[] lines, string path)
    {
        if (lines.Length == 0 || !lines[0].StartsWith("resource,unit_price_per_hour", StringComparison.Ordinal))
            throw BadInputException.AtLine(path, 1, "expected the header 'resource,unit_price_per_hour,unit,provider,date,source'");
        var prices = new List<ResourcePrice>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]) || lines[i].StartsWith('#')) continue;
            var c = SplitCsv(lines[i].TrimEnd('\r'));
            if (c.Count < 5) throw BadInputException.AtLine(path, i + 1, $"expected at least 5 columns, found {c.Count}");
            if (!double.TryParse(c[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double price) || price < 0 || !double.IsFinite(price))
                throw BadInputException.AtLine(path, i + 1, $"unit_price_per_hour '{c[1]}' is not a non-negative number");
            prices.Add(new ResourcePrice(c[0].Trim(), price, c[2].Trim(), c[3].Trim(), c[4].Trim(), c.Count > 5 ? c[5].Trim() : ""));
        }
        return new CostModel(Path.GetFileName(path), prices);
    }

    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else current.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(ch);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
