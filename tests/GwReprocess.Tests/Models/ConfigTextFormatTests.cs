using GwReprocess.Inference;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Tests.Models;

/// <summary>config.pbtxt reading and writing over Triton's ModelConfig message.</summary>
public sealed class ConfigTextFormatTests
{
    // triton-protocol.md §3.5, verbatim.
    private const string SnapshotterExample = """
        name: "snapshotter"
        platform: "onnxruntime_onnx"
        max_batch_size: 0
        input [ { name: "snapshot_update" data_type: TYPE_FP32 dims: [ 1, 2, 256 ] } ]
        output [ { name: "snapshot" data_type: TYPE_FP32 dims: [ 1, 2, 4096 ] } ]
        sequence_batching {
          max_sequence_idle_microseconds: 10000000
          direct { }
          state [ {
            input_name: "input_snapshot"
            output_name: "output_snapshot"
            data_type: TYPE_FP32
            dims: [ 1, 2, 4096 ]
            initial_state: { name: "snapshot" data_type: TYPE_FP32 dims: [ 1, 2, 4096 ] zero_data: true }
          } ]
        }
        instance_group [ { count: 1 kind: KIND_GPU } ]
        """;

    // A Triton-docs style config: comments, repeated fields written out, `},` separators, dynamic batching,
    // parameters map, optimization with an accelerator map, version policy.
    private const string DynamicBatchingExample = """
        # DeepClean served with dynamic batching
        name: "deepclean"
        backend: "onnxruntime"
        max_batch_size: 64
        version_policy: { specific: { versions: 1 versions: 3 } }
        input [
          {
            name: "witness"
            data_type: TYPE_FP32
            dims: [ 21, 4096 ]
          },
          {
            name: "mask"; data_type: TYPE_BOOL; dims: -1; optional: true
          }
        ]
        output {
          name: "noise"
          data_type: TYPE_FP32
          dims: [ 4096 ]
          reshape: { shape: [ 1, 4096 ] }
        }
        dynamic_batching {
          preferred_batch_size: [ 8, 16 ]
          preferred_batch_size: 64   # mixed list and repeated forms
          max_queue_delay_microseconds: 100
          priority_queue_policy { key: 1 value: { timeout_action: DELAY max_queue_size: 4 } }
        }
        instance_group [ { count: 2, kind: KIND_CPU }, { count: 1 kind: KIND_GPU gpus: [ 0, 1 ] } ]
        optimization { execution_accelerators {
          gpu_execution_accelerator : [ { name : "tensorrt" parameters { key: "precision_mode" value: "FP16" } } ]
        } }
        parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
        parameters [ { key: "execution_mode", value: < string_value: 'sequential' > } ]
        """;

    private const string OldestStrategyExample = """
        name: "stateful"
        platform: "onnxruntime_onnx"
        max_batch_size: 8
        input [ { name: "x" data_type: TYPE_FP32 dims: [ 16 ] } ]
        output [ { name: "y" data_type: TYPE_FP32 dims: [ 16 ] } ]
        sequence_batching {
          max_sequence_idle_microseconds: 0x3b9aca00
          oldest { max_candidate_sequences: 4 preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 0100 }
          control_input [
            { name: "START" control [ { kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] },
            { name: "CORRID" control { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } },
            { name: "READY" control { kind: 1 int32_false_true: [ 0, 1 ] } }
          ]
        }
        """;

    private const string EnsembleExample = """
        name: "gwe2e"
        platform: "ensemble"
        max_batch_size: 0
        input [ { name: "snapshot_update" data_type: TYPE_FP32 dims: [ 1, 44, 512 ] } ]
        output [ { name: "score" data_type: TYPE_FP32 dims: [ 64, 1 ] } ]
        ensemble_scheduling {
          step [
            {
              model_name: "snapshotter"
              model_version: -1
              input_map { key: "snapshot_update" value: "snapshot_update" }
              output_map [ { key: "strain" value: "strain" }, { key: "witness_h1", value: "witness_h1" } ]
            },
            {
              model_name: "bbhnet"
              model_version: - 1
              input_map { key: "strain" value: "st" "rain" }
              output_map { key: "score" value: "score" }
            }
          ]
        }
        """;

    public static TheoryData<string, string> Examples => new()
    {
        { "snapshotter", SnapshotterExample },
        { "dynamic", DynamicBatchingExample },
        { "oldest", OldestStrategyExample },
        { "ensemble", EnsembleExample },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void RealisticConfigsRoundTrip(string label, string text)
    {
        var parsed = ModelConfigFile.Parse(text, label);
        var printed = ModelConfigFile.Format(parsed);
        var reparsed = ModelConfigFile.Parse(printed, label + " (printed)");
        Assert.Equal(parsed, reparsed);
        Assert.Equal(printed, ModelConfigFile.Format(reparsed));
    }

    [Fact]
    public void SnapshotterExampleFieldsAreTritonsMessages()
    {
        var c = ModelConfigFile.Parse(SnapshotterExample);
        Assert.Equal("snapshotter", c.Name);
        Assert.Equal(new long[] { 1, 2, 256 }, c.Input[0].Dims);
        Assert.Equal(DataType.TypeFp32, c.Input[0].DataType);
        Assert.Equal(ModelConfig.SchedulingChoiceOneofCase.SequenceBatching, c.SchedulingChoiceCase);
        Assert.Equal(10_000_000UL, c.SequenceBatching.MaxSequenceIdleMicroseconds);
        Assert.Equal(ModelSequenceBatching.StrategyChoiceOneofCase.Direct, c.SequenceBatching.StrategyChoiceCase);
        var init = c.SequenceBatching.State[0].InitialState[0];
        Assert.Equal(ModelSequenceBatching.Types.InitialState.StateDataOneofCase.ZeroData, init.StateDataCase);
        Assert.Equal("snapshot", init.Name);
        Assert.Equal(ModelInstanceGroup.Types.Kind.Gpu, c.InstanceGroup[0].Kind);
    }

    [Fact]
    public void ListsMapsEnumsNumbersAndStringsParseAsTritonReadsThem()
    {
        var d = ModelConfigFile.Parse(DynamicBatchingExample);
        Assert.Equal(new[] { 8, 16, 64 }, d.DynamicBatching.PreferredBatchSize);
        Assert.Equal(ModelQueuePolicy.Types.TimeoutAction.Delay, d.DynamicBatching.PriorityQueuePolicy[1UL].TimeoutAction);
        Assert.Equal(new long[] { 1, 3 }, d.VersionPolicy.Specific.Versions);
        Assert.True(d.Input[1].Optional);
        Assert.Equal(new long[] { -1 }, d.Input[1].Dims);
        Assert.Equal(new[] { 0, 1 }, d.InstanceGroup[1].Gpus);
        Assert.Equal("FP16", d.Optimization.ExecutionAccelerators.GpuExecutionAccelerator[0].Parameters["precision_mode"]);
        Assert.Equal("sequential", d.Parameters["execution_mode"].StringValue);
        Assert.Equal("1", d.Parameters["intra_op_thread_count"].StringValue);

        var o = ModelConfigFile.Parse(OldestStrategyExample);
        Assert.Equal(1_000_000_000UL, o.SequenceBatching.MaxSequenceIdleMicroseconds);       // hex
        Assert.Equal(64UL, o.SequenceBatching.Oldest.MaxQueueDelayMicroseconds);              // octal 0100
        Assert.Equal(new[] { 0f, 1f }, o.SequenceBatching.ControlInput[0].Control[0].Fp32FalseTrue);
        Assert.Equal(ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceReady, o.SequenceBatching.ControlInput[2].Control[0].Kind); // enum by number

        var e = ModelConfigFile.Parse(EnsembleExample);
        Assert.Equal(-1, e.EnsembleScheduling.Step[1].ModelVersion);                            // "- 1"
        Assert.Equal("strain", e.EnsembleScheduling.Step[1].InputMap["strain"]);                // "st" "rain"
        Assert.Equal("witness_h1", e.EnsembleScheduling.Step[0].OutputMap["witness_h1"]);
    }

    [Fact]
    public void EscapesSurviveRoundTrip()
    {
        var c = new ModelConfig { Name = "quote\"back\\slash\nnewline\ttab\u0001 ünï" };
        c.Parameters.Add("k", new ModelParameter { StringValue = "\u00e9" });
        var back = ModelConfigFile.Parse(ModelConfigFile.Format(c));
        Assert.Equal(c, back);
        Assert.Equal("A\u00e9B", ModelConfigFile.Parse("name: \"\\101\\xc3\\xa9\\u0042\"").Name);
    }

    [Theory]
    [InlineData("nmae: \"x\"", "config.pbtxt:1:1:", "no field named 'nmae'")]
    [InlineData("name: \"a\"\nname: \"b\"", "config.pbtxt:2:1:", "more than once")]
    [InlineData("dynamic_batching { }\nsequence_batching { }", "config.pbtxt:2:1:", "same oneof")]
    [InlineData("max_batch_size 8", "config.pbtxt:1:16:", "expected ':'")]
    [InlineData("max_batch_size: 8bar", "config.pbtxt:1:17:", "takes an integer")]
    [InlineData("max_batch_size: 3000000000", "config.pbtxt:1:17:", "out of range")]
    [InlineData("input { data_type: TYPE_FLOAT }", "config.pbtxt:1:20:", "not a value of enum DataType")]
    [InlineData("input { name: \"x\"", "config.pbtxt:1:18:", "end of input")]
    [InlineData("name: [\"a\"]", "config.pbtxt:1:7:", "not repeated")]
    [InlineData("name: \"unterminated\n\"", "config.pbtxt:1:7:", "unterminated")]
    public void ErrorsNameFileLineAndReason(string text, string location, string reason)
    {
        var e = Assert.Throws<BadInputException>(() => ModelConfigFile.Parse(text));
        Assert.StartsWith(location, e.Message);
        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task EveryBuiltConfigRoundTripsThroughTextAndReadsBackFromDisk()
    {
        var dir = ModelTestSupport.NewTempDirectory();
        try
        {
            var models = ModelRepositoryBuilder.Build(new ModelRepositoryOptions { KernelSeconds = 0.25, Stride = 64, Batch = 4, Witnesses = 5 });
            await ModelRepository.WriteAsync(dir, models);
            foreach (var m in models)
            {
                var text = File.ReadAllText(Path.Combine(dir, m.Name, "config.pbtxt"));
                Assert.Equal(ModelConfigFile.Format(m.Config), text);
                Assert.Equal(m.Config, ModelConfigFile.Read(Path.Combine(dir, m.Name, "config.pbtxt")));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
