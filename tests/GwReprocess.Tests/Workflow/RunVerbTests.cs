using GwReprocess.Tests.Cli;

namespace GwReprocess.Tests.Workflow;

/// <summary><c>gwrepro run --dag</c>: exit codes, the summary, rescue DAGs, and gwrepro nodes running this gwrepro.</summary>
public sealed class RunVerbTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-runverb-");

    public void Dispose() => _dir.Delete(true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public async Task A_failed_node_exits_3_with_a_rescue_dag_and_the_rerun_resumes_from_it()
    {
        // step.sh NAME: counts its runs in NAME.runs; 'second' fails while the file 'broken' exists.
        File.WriteAllText(P("step.sh"), "echo x >> $1.runs\nif [ \"$1\" = second ] && [ -e broken ]; then exit 1; fi\nexit 0\n");
        File.WriteAllText(P("step.sub"), "executable = /bin/sh\narguments = \"step.sh $(JOB)\"\noutput = logs/$(JOB).$(RETRY).out\nerror = logs/$(JOB).$(RETRY).err\nqueue\n");
        File.WriteAllText(P("final.sub"), "executable = /bin/sh\narguments = \"-c 'echo $(DAG_STATUS) >> final.status'\"\nqueue\n");
        File.WriteAllText(P("w.dag"), """
            JOB first step.sub
            JOB second step.sub
            RETRY second 1 UNLESS-EXIT 2
            PARENT first CHILD second
            FINAL fin final.sub

            """);
        File.WriteAllText(P("broken"), "");

        var r = await GwreproProcess.RunAsync(["run", "--dag", P("w.dag"), "--stop-grace", "1"], _dir.FullName);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("run: 1 of 2 client job(s) complete (1 run, 0 done before), 1 failed, 0 not run; final node fin succeeded", r.StdOut);
        Assert.Contains("run: failed: second (exit code 1 after 2 attempt(s))", r.StdOut);
        Assert.Contains("rescue DAG " + P("w.dag.rescue001"), r.StdOut);
        Assert.Equal(2, File.ReadAllLines(P("second.runs")).Length);
        Assert.Contains("DONE first", File.ReadAllLines(P("w.dag.rescue001")));

        File.Delete(P("broken"));
        r = await GwreproProcess.RunAsync(["run", "--dag", P("w.dag"), "--stop-grace", "1"], _dir.FullName);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("run: 2 of 2 client job(s) complete (1 run, 1 done before), 0 failed, 0 not run; final node fin succeeded", r.StdOut);
        Assert.Single(File.ReadAllLines(P("first.runs")));
        Assert.Equal(3, File.ReadAllLines(P("second.runs")).Length);
        Assert.Equal(["2", "0"], File.ReadAllLines(P("final.status")));
        Assert.False(File.Exists(P("w.dag.rescue002")));
    }

    [Fact]
    public async Task Submit_files_naming_gwrepro_run_this_gwrepro_with_their_arguments()
    {
        File.WriteAllText(P("v.sub"), "universe = vanilla\nexecutable = /opt/nowhere/gwrepro\narguments = \"dag check $(dagfile)\"\noutput = check.out\nerror = check.err\nqueue\n");
        File.WriteAllText(P("inner.dag"), "JOB x v.sub\n");
        File.WriteAllText(P("outer.dag"), "JOB check v.sub\nVARS check dagfile=\"inner.dag\"\n");
        var r = await GwreproProcess.RunAsync(["run", "--dag", P("outer.dag")], _dir.FullName);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("inner.dag: OK\n", File.ReadAllText(P("check.out")));
    }

    [Fact]
    public async Task Dag_with_a_workflow_is_bad_usage()
    {
        var r = await GwreproProcess.RunAsync(["run", "w.toml", "--dag", "x.dag"], _dir.FullName);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--dag runs an existing DAG", r.StdErr);
    }
}
