using GwReprocess.Analysis;

namespace GwReprocess.Tests.Analysis;

public class CostTests
{
    private static readonly CostModel Gcp2021 = CostModel.Published2021();

    [Fact]
    public void The_published_2021_prices_are_carried()
    {
        Assert.Equal(0.04749975, Gcp2021.VcpuHour);
        Assert.Equal(0.35, Gcp2021.PricePerHour("gpu-t4"));
    }

    [Fact]
    public void Published_cost_arithmetic_for_a_4xT4_node_with_four_8_vcpu_clients()
    {
        // By hand: server node 4 × 0.35 + 32 × 0.04749975 = 2.919992 $/h; clients 4 × 8 × 0.04749975 = 1.519992 $/h.
        var node = new Deployment(Nodes: 1, GpusPerNode: 4, GpuResource: "gpu-t4", VcpusPerNode: 32, ClientsPerNode: 4, VcpusPerClient: 8);
        Assert.Equal(4.439984, node.CostPerHour(Gcp2021), 12);

        // At 2 s of data per second (0.5 s/s'): 4.439984 / 3600 / 2 = 6.16664444…e-4 $ per second of data,
        // = 1.2982477686e-2 vCPU-hours ("CPU-hour cost units": $ / 0.04749975), and × 31 557 600 s per year.
        var c = node.Cost(Gcp2021, 2.0);
        Assert.Equal(4.439984 / 7200, c.PerDataSecond, 15);
        Assert.Equal(6.166644444444444e-4, c.PerDataSecond, 15);
        Assert.Equal(0.012982477686, c.VcpuHoursPerDataSecond, 12);
        Assert.Equal(4.439984 * 4383, c.PerDataYear, 9); // 31 557 600 s / 7200 = 4383 exactly: 19460.449872

        // Two such nodes at twice the throughput cost the same per second of data (strong scaling).
        var two = (node with { Nodes = 2 }).Cost(Gcp2021, 4.0);
        Assert.Equal(c.PerDataSecond, two.PerDataSecond, 15);
        Assert.Equal(2 * c.PerHour, two.PerHour, 12);
    }

    [Fact]
    public void Plan_reproduces_the_published_hepcloud_scaling()
    {
        var points = ScalingPlanner.Plan([4, 40, 80], perGpuRate: 0.5, perClientRate: null, clientsPerGpu: 25,
            gpusPerNode: 4, vcpusPerNode: 32, vcpusPerClient: 1, gpuResource: "gpu-t4", Gcp2021);
        Assert.Equal([2.0, 20.0, 40.0], points.Select(p => p.DataSecondsPerSecond).ToArray());
        Assert.Equal([100, 1000, 2000], points.Select(p => p.Clients).ToArray());
        Assert.All(points, p => Assert.Equal("gpu", p.Bottleneck));
        // One node: 4 × 0.35 + 32 × 0.04749975 + 100 × 1 × 0.04749975 = 7.669967 $/h.
        Assert.Equal(7.669967, points[0].Cost.PerHour, 9);
        Assert.Equal(10 * points[0].Cost.PerHour, points[1].Cost.PerHour, 9);
        Assert.Equal(365.25 * 86400 / 40 / 3600, points[2].WallHoursPerDataYear, 9);
    }

    [Fact]
    public void Clients_limit_when_they_saturate_first()
    {
        // 0.02 s'/s per client (the published ≈10 req/s at r = 500 Hz) × 10 clients per GPU = 0.2 < 0.5 per GPU.
        var points = ScalingPlanner.Plan([4], 0.5, 0.02, 10, 4, 32, 1, "gpu-t4", Gcp2021);
        Assert.Equal("clients", points[0].Bottleneck);
        Assert.Equal(0.8, points[0].DataSecondsPerSecond, 12);
    }

    [Theory]
    [InlineData("resource,unit_price_per_hour,unit,provider,date,source\ngpu-t4,0.35,GPU-hour,GCP,2021,x\n", "no-vcpu.csv: a cost model needs a 'vcpu' row")]
    [InlineData("resource,unit_price_per_hour,unit,provider,date,source\nvcpu,cheap,vCPU-hour,GCP,2021,x\n", "bad.csv:2: unit_price_per_hour 'cheap' is not a non-negative number")]
    [InlineData("name,price\nvcpu,1\n", "bad.csv:1: expected the header")]
    public void Bad_cost_models_name_file_and_line(string text, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-cost-");
        try
        {
            string name = expected.StartsWith("no-vcpu") ? "no-vcpu.csv" : "bad.csv";
            string path = Path.Combine(dir.FullName, name);
            File.WriteAllText(path, text);
            var e = Assert.Throws<BadInputException>(() => CostModel.Read(path));
            Assert.Contains(expected, e.Message);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Cli_plan_and_cost_print_the_figures()
    {
        var r = await Cli.GwreproProcess.RunAsync("analyze", "plan", "--gpus", "4,40,80", "--per-gpu-rate", "0.5", "--clients-per-gpu", "25", "--vcpus-per-client", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.StdOut);
        var rates = doc.RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("data_seconds_per_second").GetDouble()).ToArray();
        Assert.Equal([2.0, 20.0, 40.0], rates);

        r = await Cli.GwreproProcess.RunAsync("analyze", "cost", "--throughput", "2");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("cost per hour:     4.439984", r.StdOut);
        Assert.Contains("6.166644E-004", r.StdOut);

        r = await Cli.GwreproProcess.RunAsync("analyze", "plan", "--gpus", "6", "--per-gpu-rate", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("6 GPUs is not a whole number of 4-GPU nodes", r.StdErr);
    }

    internal static string ShippedTable(string name) => Path.Combine(AppContext.BaseDirectory, "data", "cost-models", name);

    [Fact]
    public void Every_shipped_cost_table_loads_with_dates_and_sources()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "data", "cost-models"), "*.csv").Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal(["gcp-2021.csv", "gcp-ondemand-2026-05.csv", "owned-cluster.csv"], files);
        foreach (var f in files)
        {
            var model = CostModel.Read(ShippedTable(f));
            Assert.True(model.VcpuHour > 0, f);
            Assert.Contains(model.Prices, p => p.Resource.StartsWith("gpu-", StringComparison.Ordinal) && p.UnitPricePerHour > 0);
            Assert.All(model.Prices, p => Assert.False(string.IsNullOrWhiteSpace(p.Source), $"{f}: {p.Resource} has no source"));
            Assert.All(model.Prices, p => Assert.False(string.IsNullOrWhiteSpace(p.Date), $"{f}: {p.Resource} has no date"));
            // The file and the copy carried in the binary (what --cost-model NAME loads) are the same table.
            Assert.Equal(model.Prices.OrderBy(p => p.Resource), CostModel.Shipped(Path.GetFileNameWithoutExtension(f)).Prices.OrderBy(p => p.Resource));
        }
        Assert.Equal(files.Select(Path.GetFileNameWithoutExtension), CostModel.ShippedNames);
        Assert.Equal(Gcp2021.Prices.OrderBy(p => p.Resource), CostModel.Read(ShippedTable("gcp-2021.csv")).Prices.OrderBy(p => p.Resource));
    }

    [Fact]
    public void The_vcpu_row_is_the_current_n1_price_the_readme_quotes()
    {
        // analysis/cost-models/README.md quotes Google's sole-tenant pricing page (base N1 prices per vCPU and per GB)
        // and a dated catalogue copy (n1-standard-32 in us-central1, 2026-05-23); the shipped vcpu row must be their
        // arithmetic: one vCPU with its 3.75 GB, and 32 of them the quoted machine price.
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "cost-models", "README.md"));
        double vcpu = QuotedNumber(readme, @"\$(\d+\.\d+) for 1 vCPU \+");
        double gb = QuotedNumber(readme, @"\$(\d+\.\d+) for 1 GB of memory \+");
        double n1Standard32 = QuotedNumber(readme, @"""name"": ""n1-standard-32"", ""vCpus"": 32, ""memoryGb"": 120, .*""us-central1"": \{ ""linuxOnDemand"": (\d+\.\d+)");
        var table = CostModel.Read(ShippedTable("gcp-2021.csv"));
        Assert.Equal(vcpu + 3.75 * gb, table.VcpuHour, 12);
        Assert.Equal(n1Standard32, 32 * table.VcpuHour, 9);
    }

    /// <summary>The number a pattern captures in a text; every occurrence must agree.</summary>
    internal static double QuotedNumber(string text, string pattern)
    {
        var found = System.Text.RegularExpressions.Regex.Matches(text, pattern)
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToArray();
        Assert.True(found.Length == 1, $"expected one value for /{pattern}/, found [{string.Join(", ", found)}]");
        return found[0];
    }

    [Fact]
    public void Owned_hardware_arithmetic_is_exact_on_a_hand_built_case()
    {
        // 8766 over 2 units for 1 year of 8766 h: 0.5 per unit-hour; 1000 W over 2 units × PUE 1.5 × 0.2 per kWh: 0.15 per unit-hour.
        var h = new OwnedHardware(PurchaseUsd: 8766, Units: 2, Years: 1, Watts: 1000, Pue: 1.5, UsdPerKwh: 0.2);
        Assert.Equal(0.5, h.CapitalPerUnitHour, 15);
        Assert.Equal(0.15, h.EnergyPerUnitHour, 15);
        Assert.Equal(0.65, h.PerUnitHour, 15);
        Assert.Throws<BadInputException>(() => (h with { Pue = 0.9 }).Validate());
    }

    [Fact]
    public void Owned_cluster_table_is_the_arithmetic_its_readme_documents()
    {
        var owned = CostModel.Read(ShippedTable("owned-cluster.csv"));
        // README inputs: T4 2000 USD, 70 W; EPYC 7643P 2722 USD, 96 threads, 225 W; 5 years, PUE 1.58, 0.1278 USD/kWh.
        Assert.Equal(new OwnedHardware(2000, 1, 5, 70, 1.58, 0.1278).PerUnitHour, owned.PricePerHour("gpu-t4"), 8);
        Assert.Equal(new OwnedHardware(2722, 96, 5, 225, 1.58, 0.1278).PerUnitHour, owned.VcpuHour, 9);
        // The README's example: the published 4×T4, 32-vCPU node with four 8-vCPU clients.
        var node = new Deployment(1, 4, "gpu-t4", 32, 4, 8);
        Assert.Equal(4 * 0.05976553 + 64 * 0.001120172, node.CostPerHour(owned), 12);
    }

    [Fact]
    public async Task Cli_owned_prints_the_arithmetic()
    {
        var r = await Cli.GwreproProcess.RunAsync("analyze", "owned", "--purchase", "2000", "--watts", "70", "--kwh-price", "0.1278");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("capital:  2000 / 1 / (5 y × 8766 h) = 0.0456308 per unit-hour", r.StdOut);
        Assert.Contains("total:    0.0597655 per unit-hour", r.StdOut);
        r = await Cli.GwreproProcess.RunAsync("analyze", "owned", "--purchase", "2000", "--watts", "70", "--kwh-price", "0.1278", "--pue", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("PUE 0.5 must be at least 1", r.StdErr);
    }
}
