using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GwReprocess.Analysis;

namespace GwReprocess.Tests.Analysis;

/// <summary>gcp-ondemand-2026-05.csv against the catalogue prices its README quotes, and priced through the CLI.</summary>
public class OnDemandTableTests
{
    private const string TableName = "gcp-ondemand-2026-05";

    private static readonly CostModel Table = CostModel.Read(CostTests.ShippedTable(TableName + ".csv"));

    private static string Readme => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "cost-models", "README.md"));

    /// <summary>One G2 machine as the README quotes it from the catalogue: L4 count, vCPUs, GB and us-central1 on-demand price.</summary>
    private sealed record G2Machine(string Name, int Gpus, int Vcpus, int MemoryGb, double Price);

    private static Dictionary<string, G2Machine> QuotedG2Machines()
    {
        var machines = new Dictionary<string, G2Machine>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(Readme,
            @"""name"": ""(g2-standard-\d+)"", ""vCpus"": (\d+), ""memoryGb"": (\d+), \.\.\. ""gpuCount"": (\d+), ""gpuType"": ""L4"", \.\.\. ""us-central1"": \{ ""linuxOnDemand"": (\d+\.\d+)"))
        {
            var g = new G2Machine(m.Groups[1].Value, int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture));
            Assert.True(machines.TryAdd(g.Name, g), $"{g.Name} is quoted twice");
        }
        return machines;
    }

    [Fact]
    public void The_table_parses_with_n1_l4_and_g2_rows_and_no_t4()
    {
        Assert.Equal(["gpu-l4", "vcpu", "vcpu-g2"], Table.Prices.Select(p => p.Resource).Order(StringComparer.Ordinal).ToArray());
        Assert.All(Table.Prices, p => Assert.Equal("2026-05-23", p.Date));
        Assert.All(Table.Prices, p => Assert.Contains("02139fb1eb459a218b99258bc5fc224f166cb5b5", p.Source));
        // The two figures solved from machine prices say so; the quoted one does not.
        Assert.StartsWith("derived, not quoted", Table.Prices.Single(p => p.Resource == "gpu-l4").Source);
        Assert.StartsWith("derived, not quoted", Table.Prices.Single(p => p.Resource == "vcpu-g2").Source);
        Assert.DoesNotContain("derived", Table.Prices.Single(p => p.Resource == "vcpu").Source);
        var e = Assert.Throws<BadInputException>(() => Table.PricePerHour("gpu-t4"));
        Assert.Contains("no price for resource 'gpu-t4'", e.Message);
    }

    [Fact]
    public void The_vcpu_row_is_the_quoted_n1_machine_price_per_vcpu()
    {
        double n1Standard32 = CostTests.QuotedNumber(Readme, @"""name"": ""n1-standard-32"", ""vCpus"": 32, ""memoryGb"": 120, .*""us-central1"": \{ ""linuxOnDemand"": (\d+\.\d+)");
        Assert.Equal(n1Standard32 / 32, Table.VcpuHour, 12);
        Assert.Equal(CostModel.Published2021().VcpuHour, Table.VcpuHour);
    }

    [Fact]
    public void L4_and_g2_vcpu_rows_are_solved_from_two_quoted_g2_machines_and_reproduce_all_seven()
    {
        var g2 = QuotedG2Machines();
        Assert.Equal(["g2-standard-12", "g2-standard-16", "g2-standard-24", "g2-standard-4", "g2-standard-48", "g2-standard-8", "g2-standard-96"],
            g2.Keys.Order(StringComparer.Ordinal).ToArray());
        // G2 memory is 4 GB per vCPU on every machine, so a price is gpus × L4 + vCPUs × c with c one vCPU and its 4 GB.
        Assert.All(g2.Values, m => Assert.Equal(4 * m.Vcpus, m.MemoryGb));
        var (four, sixteen) = (g2["g2-standard-4"], g2["g2-standard-16"]);
        Assert.Equal((1, 1), (four.Gpus, sixteen.Gpus));

        double c = (sixteen.Price - four.Price) / (sixteen.Vcpus - four.Vcpus);
        double l4 = four.Price - four.Vcpus * c;
        Assert.Equal(c, Table.PricePerHour("vcpu-g2"), 12);
        Assert.Equal(l4, Table.PricePerHour("gpu-l4"), 12);

        // Each quoted price is rounded to 6 decimals: the model may miss it by its own ±0.5e-6 plus the two anchors'
        // rounding carried through the solution, g·e4 + (n − 4g)(e16 − e4)/12 (the README prints these bounds).
        const double half = 0.5e-6;
        foreach (var m in g2.Values)
        {
            double model = m.Gpus * Table.PricePerHour("gpu-l4") + m.Vcpus * Table.PricePerHour("vcpu-g2");
            double a = (m.Vcpus - 4.0 * m.Gpus) / 12;
            double allowed = (Math.Abs(m.Gpus - a) + Math.Abs(a) + 1) * half;
            Assert.True(Math.Abs(m.Price - model) <= allowed + 1e-12, $"{m.Name}: catalogue {m.Price} vs model {model}, allowed ±{allowed:G3}");
        }

        // The 4×L4 node of the CLI example is a catalogue machine: 4 L4 + 48 G2 vCPUs, 4.001665 against 4.001664.
        var node = g2["g2-standard-48"];
        Assert.Equal((4, 48, 192), (node.Gpus, node.Vcpus, node.MemoryGb));
        Assert.Equal(4.001665, node.Price);
        Assert.Equal(4.001664, 4 * Table.PricePerHour("gpu-l4") + 48 * Table.PricePerHour("vcpu-g2"), 12);
    }

    [Fact]
    public void Plan_prices_server_vcpus_with_the_node_resource_and_clients_as_n1()
    {
        // One 4×L4 node of 48 G2 vCPUs with 25 one-vCPU N1 clients per GPU: 4.001664 + 100 × 0.04749975 = 8.751639 $/h.
        var points = ScalingPlanner.Plan([4, 8], 0.5, null, 25, 4, 48, 1, "gpu-l4", Table, nodeVcpuResource: "vcpu-g2");
        Assert.Equal(8.751639, points[0].Cost.PerHour, 9);
        Assert.Equal(2 * 8.751639, points[1].Cost.PerHour, 9);
        // Left at the default the server vCPUs are N1: 4 × 0.56004 + (48 + 100) × 0.04749975 = 9.270123.
        Assert.Equal(9.270123, ScalingPlanner.Plan([4], 0.5, null, 25, 4, 48, 1, "gpu-l4", Table)[0].Cost.PerHour, 9);
    }

    [Fact]
    public async Task Cli_costs_a_4xL4_g2_standard_48_node_with_four_8_vcpu_n1_clients()
    {
        // By hand: server 4 × 0.56004 + 48 × 0.036698 = 4.001664; clients 4 × 8 × 0.04749975 = 1.519992; 5.521656 $/h.
        // At 2 s of data per second: 5.521656 / 7200 $ per s of data, / 0.04749975 in vCPU-hours, × 4383 per year of data.
        string[] node = ["--gpu", "gpu-l4", "--node-vcpu", "vcpu-g2", "--gpus-per-node", "4", "--vcpus-per-node", "48",
            "--clients-per-node", "4", "--vcpus-per-client", "8", "--throughput", "2"];
        string[] byName = ["analyze", "cost", "--cost-model", TableName, .. node, "--json"];
        var r = await Cli.GwreproProcess.RunAsync(byName);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using (var doc = JsonDocument.Parse(r.StdOut))
        {
            Assert.Equal(TableName + ".csv", doc.RootElement.GetProperty("cost_model").GetString());
            var cost = doc.RootElement.GetProperty("cost");
            Assert.Equal(5.521656, cost.GetProperty("per_hour").GetDouble(), 12);
            Assert.Equal(7.668966666666667e-4, cost.GetProperty("per_data_second").GetDouble(), 15);
            Assert.Equal(0.016145277957603284, cost.GetProperty("vcpu_hours_per_data_second").GetDouble(), 12);
            Assert.Equal(24201.418248, cost.GetProperty("per_data_year").GetDouble(), 6);
        }

        // The same table by path, in text form.
        string[] byPath = ["analyze", "cost", "--cost-model", CostTests.ShippedTable(TableName + ".csv"), .. node];
        r = await Cli.GwreproProcess.RunAsync(byPath);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("1 node(s) × (4 gpu-l4 + 48 vcpu-g2) + 4 client(s) × 8 vcpu", r.StdOut);
        Assert.Contains("cost per hour:     5.521656", r.StdOut);
        Assert.Contains("7.668967E-004", r.StdOut);
    }

    [Fact]
    public async Task Cli_names_a_missing_cost_model_or_resource_in_one_line()
    {
        var r = await Cli.GwreproProcess.RunAsync("analyze", "cost", "--throughput", "2", "--cost-model", "gcp-nowhere");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("gcp-nowhere: no such cost model file, nor a shipped table (shipped: gcp-2021, gcp-ondemand-2026-05, owned-cluster)", r.StdErr);

        // The current table has no T4: the default --gpu gpu-t4 must be refused, not priced at zero.
        r = await Cli.GwreproProcess.RunAsync("analyze", "cost", "--throughput", "2", "--cost-model", TableName);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("gcp-ondemand-2026-05.csv: no price for resource 'gpu-t4'", r.StdErr);
    }
}
