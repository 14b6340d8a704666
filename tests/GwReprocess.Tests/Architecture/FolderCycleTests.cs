namespace GwReprocess.Tests.Architecture;

/// <summary>The library's folders (rooms) use each other without cycles, and the detector that says so finds one when there is one.</summary>
public sealed class FolderCycleTests
{
    // Intended layering, each room using only rooms to its left (the data flow of docs/design.md, with shared plumbing first):
    // (root) < IO < Time < Data < Storage < Frames < Dsp < Simulation < Inference < Models < Jobs < Workflow < Analysis.
    // Frames/Gwf and Frames/Hdf5 are one room: FrameSource picks the format per file, so it needs both, and the formats never use each other.

    [Fact]
    public void The_library_has_no_folder_cycles()
    {
        var graph = RoomGraph.FromDirectory(Path.Combine(SourceTree.Root, "src", "GwReprocess"));
        Assert.Contains("Time", graph.Rooms); // the tree was found and read
        Assert.True(graph.Misplaced.Count == 0, $"Namespaces must follow folders for rooms to be read from them:\n  {string.Join("\n  ", graph.Misplaced)}");
        var cycles = graph.Cycles();
        if (cycles.Count > 0)
            Assert.Fail($"Folder cycles in src/GwReprocess (a type two rooms need belongs in the earlier one, or in a small shared room such as IO/):\n  {string.Join("\n  ", cycles.Select(graph.Describe))}");
    }

    [Fact]
    public void A_cycle_is_found_and_named_with_the_files_behind_each_edge()
    {
        var graph = new RoomGraph();
        graph.Add("Data", "Time", new("Data/TimeSeries.cs", ["Segment"]));
        graph.Add("Data", "Storage", new("Data/FrameCache.cs", ["AtomicFile"]));
        graph.Add("Storage", "Time", new("Storage/BucketFrameSet.cs", ["Segment"]));
        graph.Add("Storage", "Data", new("Storage/BucketFrameSet.cs", ["FrameCache", "FrameFileName"]));
        graph.Add("Storage", "Data", new("Storage/BucketFrameOpener.cs", []));
        graph.Add("Dsp", "Data", new("Dsp/TimeSeriesSignal.cs", ["TimeSeries"]));

        var cycle = Assert.Single(graph.Cycles());
        Assert.Equal("Data Storage", string.Join(" ", cycle));
        Assert.Equal(
            "Data -> Storage -> Data\n" +
            "    Data -> Storage: Data/FrameCache.cs uses GwReprocess.Storage (AtomicFile)\n" +
            "    Storage -> Data: Storage/BucketFrameSet.cs uses GwReprocess.Data (FrameCache, FrameFileName); Storage/BucketFrameOpener.cs uses GwReprocess.Data (using directive only)",
            graph.Describe(cycle));
    }

    [Fact]
    public void Every_edge_on_a_cycle_is_shown_and_an_acyclic_graph_has_none()
    {
        var graph = new RoomGraph();
        foreach (var (from, to) in new[] { ("A", "B"), ("B", "C"), ("C", "A"), ("C", "D"), ("D", "E"), ("B", "A"), ("E", "F") })
            graph.Add(from, to, new($"{from}/X.cs", []));

        Assert.Equal(["A B", "A B C"], graph.Cycles().Select(c => string.Join(" ", c)));

        var acyclic = new RoomGraph();
        foreach (var (from, to) in new[] { ("Analysis", "Jobs"), ("Jobs", "Models"), ("Analysis", "Models"), ("Models", "Time") })
            acyclic.Add(from, to, new($"{from}/X.cs", []));
        Assert.Empty(acyclic.Cycles());
    }

    [Fact]
    public void Uses_come_from_usings_qualified_names_and_the_bare_namespace_not_from_comments_or_strings()
    {
        var graph = RoomGraph.FromSources(new Dictionary<string, string>
        {
            ["BadInputException.cs"] = "namespace GwReprocess;\npublic class BadInputException : Exception { }",
            ["Time/Segment.cs"] = """"
                // Written with GwReprocess.Storage's AtomicFile once; see GwReprocess.Data.
                /* GwReprocess.Frames */
                namespace GwReprocess.Time;
                /// <summary>Not <see cref="GwReprocess.Jobs.JobSpec"/>.</summary>
                public readonly record struct Segment(long Start, long End)
                {
                    public string Name => "GwReprocess.Analysis" + @"GwReprocess.Workflow" + $"{Start} GwReprocess.Models {{GwReprocess.Dsp}}";
                    public string Raw => $$"""{{Start}} GwReprocess.Inference""";
                    public char Quote => '"';
                    public void Check() => throw new BadInputException();
                }
                """",
            ["Data/TimeSeries.cs"] = """
                using GwReprocess.Time;
                namespace GwReprocess.Data;
                public sealed class TimeSeries(Segment span) { public string Where => $"{GwReprocess.Storage.BucketUri.Parse("s3://b/k")}"; }
                """,
            ["Storage/BucketUri.cs"] = "namespace GwReprocess.Storage;\npublic sealed record BucketUri(string Text) { public static BucketUri Parse(string s) => new(s); }",
            ["Dsp/Filter.cs"] = "global using GwReprocess.Data;\nnamespace GwReprocess.Dsp;\npublic static class Filter { }",
            ["Simulation/Noise.cs"] = "namespace GwReprocess.Simulation;\npublic static class Noise { public static TimeSeries Make() => null!; }",
            ["Models/Onnx/Protos/onnx.proto"] = "syntax = \"proto3\";\npackage onnx;\noption csharp_namespace = \"GwReprocess.Models.Onnx.Protos\";",
            ["Inference/Protos/grpc_service.proto"] = "// No csharp_namespace here.\nsyntax = \"proto3\";\npackage inference;\nmessage ModelConfig {\n  string name = 1;\n}",
            ["Models/Repository.cs"] = "using Inference;\nnamespace GwReprocess.Models;\npublic static class Repository { public static ModelConfig Config => new(); }",
            ["Jobs/Moved.cs"] = "namespace GwReprocess.Models;\npublic static class Moved { }",
            ["Workflow/WorkflowConfig.cs"] = "namespace GwReprocess.Workflow;\npublic sealed class WorkflowConfig { public int Data; }",
            // Relative to GwReprocess: a room and one of its types is a use; a member access on a property named like a room is not.
            ["Simulation/Options.cs"] = "namespace GwReprocess.Simulation;\npublic static class Options { public static int From(Workflow.WorkflowConfig w) => w.Data; }",
            ["Analysis/Report.cs"] = "namespace GwReprocess.Analysis;\npublic sealed class Report { public object Workflow = null!; public string S => Workflow.ToString()!; public object D => Time.Now; }",
        });

        Assert.Equal([RoomGraph.Root], graph.UsesOf("Time"));
        Assert.Equal(["Storage", "Time"], graph.UsesOf("Data"));
        Assert.Equal(["BucketUri"], Assert.Single(graph.Evidence("Data", "Storage")).Types);
        Assert.Empty(graph.UsesOf("Dsp")); // a global using is everyone's, counted where a type of it is named
        Assert.Equal(["Data", "Workflow"], graph.UsesOf("Simulation"));
        Assert.Equal(["WorkflowConfig"], Assert.Single(graph.Evidence("Simulation", "Workflow")).Types);
        Assert.Empty(graph.UsesOf("Analysis"));
        Assert.Equal(["Inference"], graph.UsesOf("Models"));
        Assert.Equal(["ModelConfig"], Assert.Single(graph.Evidence("Models", "Inference")).Types);
        Assert.Empty(graph.Cycles());
        Assert.Equal("Jobs/Moved.cs: namespace of room Models", Assert.Single(graph.Misplaced));
    }

    [Theory]
    [InlineData("a // GwReprocess.X\nb", "a  \nb")]
    [InlineData("a /* x\n y */ b", "a   b")]
    [InlineData("a \"x\\\"y\" b", "a   b")]
    [InlineData("a @\"x\"\"y\" b", "a   b")]
    [InlineData("a $\"x{b.C}y{{z}}\" d", "a   b.C  d")]
    [InlineData("a $@\"x{b}\"\"\" c", "a   b  c")]
    [InlineData("a \"\"\"x \" \"\" y\"\"\" b", "a   b")]
    [InlineData("a $$\"\"\"{x} {{y}}\"\"\" b", "a   y  b")]
    [InlineData("a '\"' b '\\'' c", "a   b   c")]
    [InlineData("#if DEBUG\na\n#endif", " \na\n ")]
    public void Comments_and_literals_are_blanked_and_interpolations_kept(string source, string code) =>
        Assert.Equal(code, CSharpCode.WithoutCommentsAndLiterals(source));
}
