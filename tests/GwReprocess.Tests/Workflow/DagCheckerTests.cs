using FsCheck.Fluent;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

public class DagCheckerTests
{
    private static IReadOnlyList<DagProblem> Check(string dag) => DagChecker.Check(dag, "x.dag", out _);

    [Theory]
    [InlineData("VARS a job=\"1\"\nJOB a a.sub\n", "ERROR: x.dag (line 1): Unknown Node a in VARS")]
    [InlineData("JOB a.b a.sub\n", "ERROR: x.dag (line 1): node name a.b contains '.'")]
    [InlineData("JOB a+b a.sub\n", "ERROR: x.dag (line 1): node name a+b contains '+'")]
    [InlineData("JOB parent a.sub\n", "ERROR: x.dag (line 1): node name parent is a reserved word")]
    [InlineData("JOB a a.sub\nJOB a b.sub\n", "ERROR: x.dag (line 2): node name a is used twice")]
    [InlineData("JOB a a.sub\nVARS a jobname=1\n", "ERROR: x.dag (line 2): VARS value for 'jobname' must be in double quotes")]
    [InlineData("JOB a a.sub\nVARS a jobname=\"c:\\dir\"\n", "ERROR: x.dag (line 2): VARS value for 'jobname' has an illegal escape")]
    [InlineData("JOB a a.sub\nVARS a queue_x=\"1\"\n", "ERROR: x.dag (line 2): VARS key 'queue_x' must not begin with 'queue'")]
    [InlineData("JOB a a.sub\nVARS a job=\"a\"\n", "ERROR: x.dag (line 2): VARS key 'job' hides DAGMan's $(JOB) macro")]
    [InlineData("JOB a a.sub\nRETRY a 3 UNLESS-EXIT\n", "ERROR: x.dag (line 2): expected RETRY node N [UNLESS-EXIT code]")]
    [InlineData("JOB a a.sub\nRETRY a -1\n", "ERROR: x.dag (line 2): RETRY count '-1' is not a non-negative integer")]
    [InlineData("FINAL f f.sub\nFINAL g g.sub\n", "ERROR: x.dag (line 2): only one FINAL node is allowed (f already is)")]
    [InlineData("JOB a a.sub\nFINAL f f.sub\nPARENT a CHILD f\n", "ERROR: x.dag (line 3): PARENT/CHILD cannot be used on FINAL node f")]
    [InlineData("JOB a a.sub\nJOB b b.sub\nPARENT a CHILD b\nPARENT b CHILD a\n", "ERROR: x.dag: a cycle exists in the dag: a -> b -> a")]
    [InlineData("CONFIG a\nCONFIG b\n", "ERROR: x.dag (line 2): only one CONFIG file is allowed")]
    [InlineData("JOBS a a.sub\n", "ERROR: x.dag (line 1): unknown command 'JOBS'")]
    [InlineData("JOB a a.sub\nABORT-DAG-ON a 2 RETURN 300\n", "ERROR: x.dag (line 2): RETURN value must be an integer from 0 to 255")]
    public void Broken_dags_are_rejected_like_dagman_does(string dag, string expected)
    {
        var problems = Check(dag);
        Assert.NotEmpty(problems);
        Assert.StartsWith(expected, problems[0].ToString());
    }

    [Fact]
    public void A_clean_dag_with_every_common_command_passes()
    {
        const string dag = """
            # comment
            CONFIG dagman.config
            NODE_STATUS_FILE status 60
            JOBSTATE_LOG jobstate.log
            PROVISIONER srv server.sub
            Job a client.sub
            job b client.sub DONE
            VARS a jobname="a" path="with \"quotes\" and \\ backslash"
            VARS ALL_NODES attempt="$(RETRY)"
            Retry a 3 UNLESS-EXIT 2
            CATEGORY a clients
            MAXJOBS clients 4
            PRIORITY b -5
            SCRIPT PRE a /bin/true $JOB
            PRE_SKIP a 1
            PARENT a CHILD b
            FINAL fin analyze.sub
            """;
        Assert.Empty(Check(dag));
    }

    [Fact]
    public async Task The_cli_check_exits_2_with_dagman_like_messages()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-chk-");
        try
        {
            var dag = Path.Combine(dir.FullName, "bad.dag");
            File.WriteAllText(dag, "JOB a a.sub\nVARS b x=\"1\"\n");
            File.WriteAllText(Path.Combine(dir.FullName, "a.sub"), "executable = /bin/true\narguments = \"one 'two three\"\nqueue\nqueue\n");
            var r = await Cli.GwreproProcess.RunAsync("dag", "check", dag);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains($"ERROR: {dag} (line 2): Unknown Node b in VARS", r.StdErr);
            Assert.Contains("(line 2): arguments: unterminated single quote", r.StdErr);
            Assert.Contains("(line 4): a DAG node's submit file must have exactly one queue statement", r.StdErr);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData(new[] { "client", "--job", "clean_H1L1_1_2" }, "\"client --job clean_H1L1_1_2\"")]
    [InlineData(new[] { "a b", "it's", "say \"hi\"" }, "\"'a b' 'it''s' 'say \"\"hi\"\"'\"")]
    [InlineData(new[] { "", "$(job)", "x\\y" }, "\"'' $(job) x\\y\"")]
    public void Arguments_quote_as_condor_submit_reads_them(string[] argv, string expected)
    {
        Assert.Equal(expected, SubmitArguments.Quote(argv));
        Assert.Equal(argv, SubmitArguments.Parse(expected));
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public bool Any_argv_without_line_breaks_round_trips(string[] argv)
    {
        var clean = (argv ?? []).Select(a => (a ?? "").Replace("\n", "").Replace("\r", "")).ToArray();
        return SubmitArguments.Parse(SubmitArguments.Quote(clean)).SequenceEqual(clean);
    }

    [Fact]
    public void Node_names_are_stable_and_legal()
    {
        var name = NodeNames.Client("H1L1", new GwReprocess.Time.Segment(GwReprocess.Time.GpsTime.Parse("1238166018.5"), GwReprocess.Time.GpsTime.Parse("1238170114")));
        Assert.Equal("clean_H1L1_1238166018p5_4095p5", name);
        Assert.Empty(Check($"JOB {name} a.sub\n"));
    }
}
