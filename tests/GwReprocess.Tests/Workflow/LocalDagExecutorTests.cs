using System.Globalization;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>The local executor on small DAGs whose nodes are real /bin/sh scripts that record when they ran.</summary>
public sealed class LocalDagExecutorTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-exec-");

    public void Dispose() => _dir.Delete(true);

    // node.sh NAME RETRY CODE SLEEP: records start/end (ns) in trace/, appends to runs/NAME, exits CODE
    // ("fail-until-N": fails while RETRY < N; "switch": fails while the file 'fail-switch' exists).
    private const string NodeScript = """
        name=$1; retry=$2; code=$3; pause=$4
        mkdir -p trace runs
        date +%s%N > trace/$name.$retry.start
        echo "attempt $retry" >> runs/$name
        echo "stdout of $name"; echo "stderr of $name" >&2
        sleep $pause
        date +%s%N > trace/$name.$retry.end
        case $code in
          fail-until-*) n=${code#fail-until-}; if [ "$retry" -lt "$n" ]; then exit 1; fi; exit 0 ;;
          switch) if [ -e fail-switch ]; then exit 1; fi; exit 0 ;;
          *) exit $code ;;
        esac
        """;

    private const string NodeSubmit = """
        universe   = vanilla
        executable = /bin/sh
        arguments  = "node.sh $(JOB) $(RETRY) $(code) $(pause:0)"
        output     = logs/$(JOB).$(RETRY).out
        error      = logs/$(JOB).$(RETRY).err
        queue
        """;

    private string Write(string dag)
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "node.sh"), NodeScript.ReplaceLineEndings("\n") + "\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "node.sub"), NodeSubmit.ReplaceLineEndings("\n") + "\n");
        string path = Path.Combine(_dir.FullName, "t.dag");
        File.WriteAllText(path, dag.ReplaceLineEndings("\n") + "\n");
        return path;
    }

    private static Task<LocalDagResult> Run(string dag, LocalDagOptions? options = null) =>
        LocalDagExecutor.RunAsync(dag, options ?? new LocalDagOptions { StopGrace = TimeSpan.FromSeconds(5) }, CancellationToken.None);

    private long Stamp(string node, string edge, int retry = 0) =>
        long.Parse(File.ReadAllText(Path.Combine(_dir.FullName, "trace", $"{node}.{retry}.{edge}")).Trim(), CultureInfo.InvariantCulture);

    private bool Ran(string node) => File.Exists(Path.Combine(_dir.FullName, "runs", node));

    private int Attempts(string node) => Ran(node) ? File.ReadAllLines(Path.Combine(_dir.FullName, "runs", node)).Length : 0;

    private static LocalNodeResult Node(LocalDagResult r, string name) => r.Nodes.Single(n => n.Name == name);

    [Fact]
    public async Task Nodes_run_after_their_parents_and_outputs_go_where_the_submit_file_says()
    {
        var dag = Write("""
            JOB a node.sub
            JOB b node.sub
            JOB c node.sub
            JOB d node.sub
            VARS a code="0" pause="0.2"
            VARS b code="0"
            VARS c code="0" pause="0.1"
            VARS d code="0"
            PARENT a CHILD b c
            PARENT b c CHILD d
            """);
        var r = await Run(dag);
        Assert.True(r.AllSucceeded);
        Assert.Equal(4, r.Succeeded);
        Assert.True(Stamp("b", "start") >= Stamp("a", "end"));
        Assert.True(Stamp("c", "start") >= Stamp("a", "end"));
        Assert.True(Stamp("d", "start") >= Math.Max(Stamp("b", "end"), Stamp("c", "end")));
        Assert.Equal("stdout of d\n", File.ReadAllText(Path.Combine(_dir.FullName, "logs", "d.0.out")));
        Assert.Equal("stderr of d\n", File.ReadAllText(Path.Combine(_dir.FullName, "logs", "d.0.err")));
        Assert.Null(r.RescueWritten);
    }

    [Fact]
    public async Task Nodes_that_finish_as_soon_as_they_start_do_not_collide()
    {
        // NOOP nodes finish synchronously, and the runtime hands every async method that returns true synchronously the same
        // cached Task<bool>: two of them ready at once must still be told apart.
        var r = await Run(Write("""
            JOB a node.sub NOOP
            JOB b node.sub NOOP
            JOB c node.sub
            VARS c code="0"
            PARENT a b CHILD c
            """));
        Assert.True(r.AllSucceeded);
        Assert.Equal(1, Attempts("c"));
    }

    [Fact]
    public async Task Maxjobs_bounds_how_many_nodes_of_a_category_run_at_once()
    {
        var lines = new List<string>();
        for (int i = 0; i < 6; i++)
            lines.AddRange([$"JOB n{i} node.sub", $"VARS n{i} code=\"0\" pause=\"0.5\"", $"CATEGORY n{i} clients"]);
        lines.Add("JOB free node.sub");
        lines.Add("VARS free code=\"0\" pause=\"0.3\"");
        lines.Add("MAXJOBS clients 2");
        var r = await Run(Write(string.Join('\n', lines)));
        Assert.True(r.AllSucceeded);
        var spans = Enumerable.Range(0, 6).Select(i => (Start: Stamp($"n{i}", "start"), End: Stamp($"n{i}", "end"))).ToList();
        int most = spans.Max(s => spans.Count(o => o.Start <= s.Start && s.Start < o.End));
        Assert.Equal(2, most);
        // The node outside the category is not held back by it.
        Assert.True(Stamp("free", "start") < spans.Max(s => s.Start));
    }

    [Fact]
    public async Task Retry_reruns_a_failed_node_with_the_next_retry_number()
    {
        var r = await Run(Write("""
            JOB flaky node.sub
            VARS flaky code="fail-until-2"
            RETRY flaky 3 UNLESS-EXIT 2
            """));
        Assert.True(r.AllSucceeded);
        Assert.Equal(3, Node(r, "flaky").Attempts);
        Assert.Equal(3, Attempts("flaky"));
        foreach (int retry in new[] { 0, 1, 2 })
            Assert.True(File.Exists(Path.Combine(_dir.FullName, "logs", $"flaky.{retry}.out")), $"no output of retry {retry}");
    }

    [Fact]
    public async Task Unless_exit_2_stops_retries_children_are_futile_final_still_runs_and_a_rescue_dag_is_written()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "final.sub"), "executable = /bin/sh\narguments = \"-c 'echo $(DAG_STATUS) $(FAILED_COUNT) > final.txt'\"\nqueue\n");
        var r = await Run(Write("""
            JOB ok node.sub
            VARS ok code="0"
            JOB bad node.sub
            VARS bad code="2"
            RETRY bad 3 UNLESS-EXIT 2
            JOB transient node.sub
            VARS transient code="1"
            RETRY transient 1 UNLESS-EXIT 2
            JOB after node.sub
            VARS after code="0"
            PARENT bad CHILD after
            FINAL fin final.sub
            """));
        Assert.False(r.AllSucceeded);
        Assert.Equal(1, Attempts("bad"));
        Assert.Equal(2, Attempts("transient"));
        Assert.False(Ran("after"));
        Assert.Equal(LocalNodeState.Futile, Node(r, "after").State);
        Assert.Equal(LocalNodeState.Succeeded, Node(r, "fin").State);
        // FINAL gets DAGMan's DAG_STATUS (2: a node failed) and FAILED_COUNT (futile nodes are not failed ones), and runs last.
        Assert.Equal("2 2", File.ReadAllText(Path.Combine(_dir.FullName, "final.txt")).Trim());
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(_dir.FullName, "final.txt")) >= File.GetLastWriteTimeUtc(Path.Combine(_dir.FullName, "trace", "transient.1.end")));
        Assert.Equal(2, r.Failed);
        Assert.Equal(1, r.Futile);
        Assert.NotNull(r.RescueWritten);
        Assert.EndsWith("t.dag.rescue001", r.RescueWritten);
        var rescue = File.ReadAllLines(r.RescueWritten!);
        Assert.Contains("DONE ok", rescue);
        Assert.DoesNotContain(rescue, l => l.StartsWith("DONE", StringComparison.Ordinal) && l != "DONE ok");
        Assert.Contains(rescue, l => l.StartsWith("#   ", StringComparison.Ordinal) && l.Contains("bad") && l.Contains("transient"));
    }

    [Fact]
    public async Task Done_nodes_are_skipped_and_their_children_run()
    {
        var r = await Run(Write("""
            JOB first node.sub DONE
            VARS first code="1"
            JOB second node.sub
            VARS second code="0"
            PARENT first CHILD second
            """));
        Assert.True(r.AllSucceeded);
        Assert.False(Ran("first"));
        Assert.True(Ran("second"));
        Assert.Equal(LocalNodeState.Done, Node(r, "first").State);
    }

    [Fact]
    public async Task A_rescue_dag_resumes_only_what_did_not_finish()
    {
        var dag = Write("""
            JOB a node.sub
            VARS a code="0"
            JOB b node.sub
            VARS b code="switch"
            JOB c node.sub
            VARS c code="0"
            PARENT a CHILD b
            PARENT b CHILD c
            FINAL fin node.sub
            VARS fin code="0"
            """);
        File.WriteAllText(Path.Combine(_dir.FullName, "fail-switch"), "");
        var first = await Run(dag);
        Assert.False(first.AllSucceeded);
        Assert.EndsWith(".rescue001", first.RescueWritten);

        File.Delete(Path.Combine(_dir.FullName, "fail-switch"));
        var second = await Run(dag);
        Assert.True(second.AllSucceeded);
        Assert.Equal(first.RescueWritten, second.AppliedRescue);
        Assert.Equal(LocalNodeState.Done, Node(second, "a").State);
        Assert.Equal(1, Attempts("a"));
        Assert.Equal(2, Attempts("b"));
        Assert.Equal(1, Attempts("c"));
        Assert.Equal(2, Attempts("fin"));
    }

    [Fact]
    public async Task Jobs_wait_for_the_provisioner_which_is_stopped_at_the_end()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sh"), """
            sleep 0.3; date +%s%N > ready.tmp; mv ready.tmp ready
            while [ ! -e stop ]; do sleep 0.05; done
            exit 0

            """);
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sub"), "executable = /bin/sh\narguments = \"server.sh\"\nqueue\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "final.sub"), "executable = /bin/sh\narguments = \"-c 'touch stop'\"\nqueue\n");
        var dag = Write("""
            PROVISIONER srv server.sub
            JOB a node.sub
            VARS a code="0"
            FINAL fin final.sub
            """);
        string ready = Path.Combine(_dir.FullName, "ready");
        var r = await Run(dag, new LocalDagOptions
        {
            ProvisionerReady = (_, _, _) => Task.FromResult(File.Exists(ready)),
            StopGrace = TimeSpan.FromSeconds(10),
        });
        Assert.True(r.AllSucceeded);
        // 'ready' appears only once it holds its time stamp (renamed into place): the shell's redirect would create it before
        // 'date' ran, and a loaded machine could start the job between the two.
        Assert.True(Stamp("a", "start") >= long.Parse(File.ReadAllText(ready).Trim(), CultureInfo.InvariantCulture));
        var srv = Node(r, "srv");
        Assert.Equal(LocalNodeState.Stopped, srv.State);
        Assert.Equal(0, srv.ExitCode); // it saw the FINAL node's stop marker and exited by itself
    }

    [Fact]
    public async Task Service_nodes_are_not_waited_for_their_readiness_is_reported_and_they_stop_after_final()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sh"), """
            while [ ! -e go ]; do sleep 0.05; done
            date +%s%N > ready
            while [ ! -e stop ]; do sleep 0.05; done
            exit 0

            """);
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sub"), "executable = /bin/sh\narguments = \"server.sh\"\nqueue\n");
        // The job lets the service become ready; FINAL asks it to stop, as gwrepro analyze --stop-servers does.
        File.WriteAllText(Path.Combine(_dir.FullName, "go.sub"), "executable = /bin/sh\narguments = \"-c 'touch go; while [ ! -e ready ]; do sleep 0.05; done; sleep 0.5'\"\nqueue\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "final.sub"), "executable = /bin/sh\narguments = \"-c 'touch stop'\"\nqueue\n");
        var dag = Write("""
            SERVICE srv server.sub
            JOB a go.sub
            FINAL fin final.sub
            """);
        var events = new List<LocalDagEvent>();
        var r = await Run(dag, new LocalDagOptions
        {
            ProvisionerReady = (_, _, _) => Task.FromResult(File.Exists(Path.Combine(_dir.FullName, "ready"))),
            Progress = new Recorder(events),
            PollInterval = TimeSpan.FromMilliseconds(20),
            StopGrace = TimeSpan.FromSeconds(10),
        });
        Assert.True(r.AllSucceeded);
        Assert.Contains(events, e => e.Node.Name == "srv" && e.Kind == LocalDagEventKind.Ready);
        var srv = Node(r, "srv");
        Assert.Equal(LocalNodeState.Stopped, srv.State);
        Assert.Equal(0, srv.ExitCode);
    }

    // srv.sh DIE: counts its starts in 'starts'; killed by SIGKILL (as the OOM killer would) on its first DIE starts,
    // then ready until FINAL's stop marker, when it exits 0 as gwrepro serve does.
    private const string DyingService = """
        n=$(cat starts 2>/dev/null || echo 0); echo $((n + 1)) > starts; touch started.$n
        echo "start $n"
        if [ "$n" -lt "$1" ]; then kill -9 $$; fi
        touch ready
        while [ ! -e stop ]; do sleep 0.05; done
        exit 0

        """;

    private async Task<(LocalDagResult Result, List<LocalDagEvent> Events, string[] Log)> RunDyingService(int die, int maxRetries, string job)
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "srv.sh"), DyingService);
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sub"),
            $"executable = /bin/sh\narguments = \"srv.sh {die}\"\noutput = logs/srv.out\nmax_retries = {maxRetries}\nsuccess_exit_code = 0\nqueue\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "job.sub"), $"executable = /bin/sh\narguments = \"-c '{job}'\"\nqueue\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "final.sub"), "executable = /bin/sh\narguments = \"-c 'touch stop'\"\nqueue\n");
        var dag = Write("""
            JOBSTATE_LOG t.jobstate.log
            SERVICE srv server.sub
            JOB a job.sub
            FINAL fin final.sub
            """);
        var events = new List<LocalDagEvent>();
        var r = await Run(dag, new LocalDagOptions { Progress = new Recorder(events), PollInterval = TimeSpan.FromMilliseconds(20), StopGrace = TimeSpan.FromSeconds(10) });
        var log = File.ReadAllLines(Path.Combine(_dir.FullName, "t.jobstate.log")).Select(l => l.Split(' ')).Where(t => t[1] == "srv").Select(t => t[2]).ToArray();
        return (r, events, log);
    }

    [Fact]
    public async Task A_service_killed_before_the_stop_phase_is_restarted_in_place_within_max_retries_and_its_clean_stop_ends_it()
    {
        // The job needs the service up, as a client needs its server: it only finishes because the service came back.
        var (r, events, log) = await RunDyingService(die: 2, maxRetries: 3, job: "while [ ! -e ready ]; do sleep 0.05; done");

        Assert.True(r.AllSucceeded);
        Assert.Equal("3", File.ReadAllText(Path.Combine(_dir.FullName, "starts")).Trim());
        var restarts = events.Where(e => e.Node.Name == "srv" && e.Kind == LocalDagEventKind.Restarted).Select(e => e.Message).ToList();
        Assert.Equal(["its process exited with code 137; restart 1 of 3", "its process exited with code 137; restart 2 of 3"], restarts);
        var srv = Node(r, "srv");
        Assert.Equal(LocalNodeState.Stopped, srv.State);
        Assert.Equal(0, srv.ExitCode);
        // As DAGMan logs a job the schedd requeues in place: evicted and executing again under the same job id, one submit.
        Assert.Equal(["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_TERMINATED", "JOB_SUCCESS"], log);
        // A restarted process appends to the node's output, so the earlier deaths stay readable.
        Assert.Equal(["start 0", "start 1", "start 2"], File.ReadAllLines(Path.Combine(_dir.FullName, "logs", "srv.out")));
    }

    [Fact]
    public async Task A_service_that_keeps_dying_is_restarted_only_max_retries_times()
    {
        // The job outlives the second start by long enough for a third one to show, had the bound not held (a stop phase
        // begun before the first death would rightly restart nothing).
        var (r, events, log) = await RunDyingService(die: 99, maxRetries: 1, job: "until [ -e started.1 ]; do sleep 0.05; done; sleep 0.5");

        Assert.True(r.AllSucceeded); // SERVICE nodes are best effort, as under DAGMan
        Assert.Equal("2", File.ReadAllText(Path.Combine(_dir.FullName, "starts")).Trim());
        Assert.Single(events, e => e.Node.Name == "srv" && e.Kind == LocalDagEventKind.Restarted);
        Assert.Equal(137, Node(r, "srv").ExitCode);
        Assert.Equal(["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_TERMINATED", "JOB_FAILURE"], log);
    }

    private sealed class Recorder(List<LocalDagEvent> events) : IProgress<LocalDagEvent>
    {
        public void Report(LocalDagEvent value) { lock (events) events.Add(value); }
    }

    [Fact]
    public async Task A_provisioner_that_exits_before_it_is_ready_fails_the_run_but_final_runs()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "server.sub"), "executable = /bin/sh\narguments = \"-c 'exit 7'\"\nqueue\n");
        var dag = Write("""
            PROVISIONER srv server.sub
            JOB a node.sub
            VARS a code="0"
            FINAL fin node.sub
            VARS fin code="0"
            """);
        var r = await Run(dag, new LocalDagOptions { ProvisionerReady = (_, _, _) => Task.FromResult(false), StopGrace = TimeSpan.FromSeconds(5) });
        Assert.True(r.ProvisionerFailed);
        Assert.False(Ran("a"));
        Assert.True(Ran("fin"));
        Assert.Equal(7, Node(r, "srv").ExitCode);
    }

    [Fact]
    public async Task Vars_values_reach_the_program_as_one_argument_each_and_gwrepro_is_replaced()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "echo.sub"), """
            executable = /usr/local/bin/gwrepro
            arguments  = "-c 'printf ""%s|"" ""$@"" > argv.txt' sh '$(msg)' $(other)"
            queue

            """);
        // Two levels of escaping (htcondor.md 1.4): '' and "" for the submit syntax, then \" and \\ for the DAG.
        var dag = Write("""
            JOB e echo.sub
            VARS e msg="it''s \"\"quoted\"\" and spaced" other="x\\y"
            """);
        var r = await Run(dag, new LocalDagOptions { Executable = new LocalExecutable("/bin/sh", []) });
        Assert.True(r.AllSucceeded, string.Join(", ", r.Nodes.Select(n => $"{n.Name}:{n.State}:{n.ExitCode}")));
        Assert.Equal("it's \"quoted\" and spaced|x\\y|", File.ReadAllText(Path.Combine(_dir.FullName, "argv.txt")));
    }

    [Fact]
    public async Task Commands_a_local_run_cannot_carry_out_are_refused_with_their_line()
    {
        var dag = Write("JOB a node.sub\nSCRIPT PRE a /bin/true\n");
        var e = await Assert.ThrowsAsync<BadInputException>(() => Run(dag));
        Assert.Contains("t.dag:2: SCRIPT is not carried out by a local run", e.Message);
    }
}
