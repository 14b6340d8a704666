using System.Globalization;
using System.Text.RegularExpressions;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// The records the local executor keeps — node status file, jobstate log, rescue DAG — against those HTCondor 25.14.1's
/// DAGMan wrote for the same DAGs (tests/data/workflow/dagman-25.14.1): identical but for times and job ids.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed partial class DagmanRecordsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-records-");

    public void Dispose() => _dir.Delete(true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", "workflow", "dagman-25.14.1", .. parts]);

    private static readonly LocalDagOptions Options = new() { StopGrace = TimeSpan.FromSeconds(0.2) };

    /// <summary>Copies a reference DAG and its submit files; the sleeps (in no record) become 0 to keep the test fast.</summary>
    private string CopyReference(string folder, string dag)
    {
        foreach (var f in Directory.GetFiles(Data(folder)).Where(f => f.EndsWith(".dag", StringComparison.Ordinal) || f.EndsWith(".sub", StringComparison.Ordinal)))
            File.Copy(f, P(Path.GetFileName(f)));
        File.WriteAllText(P(dag), SleepValue().Replace(File.ReadAllText(P(dag)), "sleep=\"0\""));
        return P(dag);
    }

    /// <summary>Times and job ids differ from run to run; everything else must be what DAGMan writes.</summary>
    private static string Normalize(string text)
    {
        text = StatusTime().Replace(text, "$1 = T;");
        text = JobProc().Replace(text, "Job proc (N.0.0)");
        return RescueCreated().Replace(text, "# Created T UTC");
    }

    /// <summary>Each node's events in order (exit codes kept, job ids dropped).</summary>
    private static Dictionary<string, List<string>> Events(IEnumerable<JobstateEntry> entries) =>
        entries.Where(e => e.Node != JobstateEntry.Internal).GroupBy(e => e.Node)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Event is "JOB_SUCCESS" or "JOB_FAILURE" ? $"{e.Event} {e.Id}" : e.Event).ToList());

    /// <summary>The entries of each DAGMan run in a jobstate log (from one DAGMAN_STARTED to the next).</summary>
    private static List<List<JobstateEntry>> Rounds(IReadOnlyList<JobstateEntry> entries)
    {
        var rounds = new List<List<JobstateEntry>>();
        foreach (var e in entries)
        {
            if (e.Node == JobstateEntry.Internal && e.Event == "DAGMAN_STARTED") rounds.Add([]);
            rounds[^1].Add(e);
        }
        return rounds;
    }

    /// <summary>The sequence number each node's attempts got, in order.</summary>
    private static Dictionary<string, List<int>> Sequences(IEnumerable<JobstateEntry> entries) =>
        entries.Where(e => e.Event is "SUBMIT" or "SUBMIT_FAILURE").GroupBy(e => e.Node).ToDictionary(g => g.Key, g => g.Select(e => e.Sequence).ToList());

    /// <summary>What must hold of our job ids: one per attempt, the same on an attempt's SUBMIT, EXECUTE and JOB_TERMINATED, above DAGMan's own.</summary>
    private static void AssertPseudoIds(List<JobstateEntry> round)
    {
        int dagman = round[0].Cluster!.Value;
        var attempts = new HashSet<int>();
        foreach (var g in round.Where(e => e.Node != JobstateEntry.Internal && e.Event is not ("JOB_SUCCESS" or "JOB_FAILURE")).GroupBy(e => e.Sequence))
        {
            var ids = g.Select(e => e.Id).Distinct().ToList();
            Assert.Single(ids);
            Assert.Matches(@"^\d+\.0$", ids[0]);
            Assert.True(g.First().Cluster > dagman);
            Assert.True(attempts.Add(g.First().Cluster!.Value), $"job id {ids[0]} used twice");
        }
    }

    [Fact]
    public async Task The_reference_dag_leaves_the_records_dagman_25_14_1_left_in_both_rounds()
    {
        string dag = CopyReference("ref", "ref.dag");

        // Round 1: flaky fails once then succeeds, bad fails after its retry, fatal stops at UNLESS-EXIT, kid is futile, FINAL succeeds.
        var first = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.Equal(P("ref.dag.rescue001"), first.RescueWritten);
        Assert.Equal(Normalize(File.ReadAllText(Data("ref", "round1", "ref.status"))), Normalize(File.ReadAllText(P("ref.status"))));
        Assert.Equal(Normalize(File.ReadAllText(Data("ref", "round1", "ref.dag.rescue001"))), Normalize(File.ReadAllText(P("ref.dag.rescue001"))));
        var real = Rounds(JobstateLog.Read(Data("ref", "round2", "ref.jobstate.log")));
        var ours = Rounds(JobstateLog.Read(P("ref.jobstate.log")));
        Assert.Single(ours);
        Assert.Equal(Events(real[0]), Events(ours[0]));
        Assert.Equal(("DAGMAN_FINISHED", "0"), (ours[0][^1].Event, ours[0][^1].Id));
        // The first submissions are numbered in the same order (SERVICE first, then ready nodes in file order), FINAL last.
        var seq = Sequences(ours[0]);
        var realSeq = Sequences(real[0]);
        foreach (var node in new[] { "svc", "ok", "bad", "fatal", "slow" }) Assert.Equal(realSeq[node][0], seq[node][0]);
        Assert.Equal(realSeq["fin"], seq["fin"]);
        Assert.Equal(Enumerable.Range(1, 9), seq.Values.SelectMany(s => s).Order());
        AssertPseudoIds(ours[0]);

        // Round 2: the rescue DAG is applied; sequence numbers go on from the log's, as DAGMan's do.
        var second = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.Equal(P("ref.dag.rescue001"), second.AppliedRescue);
        Assert.Equal(P("ref.dag.rescue002"), second.RescueWritten);
        Assert.Equal(Normalize(File.ReadAllText(Data("ref", "round2", "ref.status"))), Normalize(File.ReadAllText(P("ref.status"))));
        Assert.Equal(Normalize(File.ReadAllText(Data("ref", "round2", "ref.dag.rescue002"))), Normalize(File.ReadAllText(P("ref.dag.rescue002"))));
        ours = Rounds(JobstateLog.Read(P("ref.jobstate.log")));
        Assert.Equal(2, ours.Count);
        Assert.Equal(Events(real[1]), Events(ours[1]));
        Assert.Equal(Sequences(real[1]), Sequences(ours[1]));
        AssertPseudoIds(ours[1]);
        Assert.True(ours[1][0].Cluster > ours[0].Max(e => e.Cluster ?? 0), "the second run's job ids continue after the first's");
    }

    [Fact]
    public async Task A_failed_dag_without_final_leaves_dagman_s_failed_records()
    {
        string dag = CopyReference("fail", "fail.dag");
        var r = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.False(r.AllSucceeded);
        Assert.Equal(Normalize(File.ReadAllText(Data("fail", "fail.status"))), Normalize(File.ReadAllText(P("fail.status"))));
        Assert.Equal(Normalize(File.ReadAllText(Data("fail", "fail.dag.rescue001"))), Normalize(File.ReadAllText(P("fail.dag.rescue001"))));
        var real = JobstateLog.Read(Data("fail", "fail.jobstate.log"));
        var ours = JobstateLog.Read(P("fail.jobstate.log"));
        Assert.Equal(Events(real), Events(ours));
        Assert.Equal(Sequences(real), Sequences(ours));
        Assert.Equal(("DAGMAN_FINISHED", "1"), (ours[^1].Event, ours[^1].Id));
        AssertPseudoIds([.. ours]);
    }

    [Fact]
    public async Task Condor_submit_dag_resumes_from_the_local_rescue_dag_and_the_local_resume_matches_it()
    {
        string dag = CopyReference("resume", "x.dag");
        File.WriteAllText(P("broken-bad"), "");
        var first = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.Equal(P("x.dag.rescue001"), first.RescueWritten);
        // What DAGMan writes for this DAG by itself ("User defined as DONE" for the node DONE in the DAG file)...
        Assert.Equal(Normalize(File.ReadAllText(Data("resume", "dagman", "x.status"))), Normalize(File.ReadAllText(P("x.status"))));
        Assert.Equal(Normalize(File.ReadAllText(Data("resume", "dagman", "x.dag.rescue001"))), Normalize(File.ReadAllText(P("x.dag.rescue001"))));
        Assert.Equal(Events(JobstateLog.Read(Data("resume", "dagman", "x.jobstate.log"))), Events(JobstateLog.Read(P("x.jobstate.log"))));
        // ...and the rescue DAG that DAGMan 25.14.1 resumed from (handoff/) was this executor's: today's is the same.
        Assert.Equal(Normalize(File.ReadAllText(Data("resume", "handoff", "x.dag.rescue001"))), Normalize(File.ReadAllText(P("x.dag.rescue001"))));
        // DAGMan read the local jobstate log too: its submissions went on from the local sequence numbers.
        var handoff = Rounds(JobstateLog.Read(Data("resume", "handoff", "x.jobstate.log")));
        Assert.Equal(handoff[0].Max(e => e.Sequence) + 1, handoff[1].Where(e => e.Sequence > 0).Min(e => e.Sequence));

        // The local resume ends where DAGMan's did.
        File.Delete(P("broken-bad"));
        var second = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.True(second.AllSucceeded);
        Assert.Equal(Normalize(File.ReadAllText(Data("resume", "handoff", "x.status"))), Normalize(File.ReadAllText(P("x.status"))));
        var ours = Rounds(JobstateLog.Read(P("x.jobstate.log")));
        Assert.Equal(Events(handoff[1]), Events(ours[1]));
        Assert.Equal(Sequences(handoff[1]), Sequences(ours[1]));
    }

    [Fact]
    public async Task The_rescue_dag_passes_gwrepro_dag_check_and_a_rescue_naming_an_unknown_node_does_not()
    {
        string dag = CopyReference("fail", "fail.dag");
        var r = await LocalDagExecutor.RunAsync(dag, Options, CancellationToken.None);
        Assert.Empty(DagChecker.CheckFile(r.RescueWritten!));
        var check = await Cli.GwreproProcess.RunAsync(["dag", "check", r.RescueWritten!], _dir.FullName);
        Assert.Equal(0, check.ExitCode);
        Assert.Contains("fail.dag.rescue001: OK", check.StdOut);

        File.AppendAllText(r.RescueWritten!, "DONE nosuchnode\n");
        check = await Cli.GwreproProcess.RunAsync(["dag", "check", r.RescueWritten!], _dir.FullName);
        Assert.Equal(2, check.ExitCode);
        Assert.Contains("fail.dag.rescue001 (line 12): Unknown Node nosuchnode in DONE", check.StdErr);
    }

    [Fact]
    public async Task The_status_file_is_rewritten_while_nodes_run()
    {
        // The node waits until the status file shows it running, then keeps that file: proof of a rewrite mid-run.
        File.WriteAllText(P("watch.sh"), """
            n=0
            while [ $n -lt 400 ]; do
              if grep -q not_idle t.status 2>/dev/null; then cp t.status seen.status; exit 0; fi
              sleep 0.05; n=$((n+1))
            done
            exit 1

            """);
        File.WriteAllText(P("watch.sub"), "executable = /bin/sh\narguments = \"watch.sh\"\nqueue\n");
        File.WriteAllText(P("true.sub"), "executable = /bin/true\nqueue\n");
        File.WriteAllText(P("t.dag"), """
            NODE_STATUS_FILE t.status 1
            JOB watch watch.sub
            JOB after true.sub
            PARENT watch CHILD after
            FINAL fin true.sub

            """);
        var r = await LocalDagExecutor.RunAsync(P("t.dag"), Options, CancellationToken.None);
        Assert.True(r.AllSucceeded);

        string seen = File.ReadAllText(P("seen.status"));
        var ads = NodeStatusFile.ParseAds(seen);
        Assert.Equal(["DagStatus", "NodeStatus", "NodeStatus", "NodeStatus", "StatusEnd"], ads.Select(a => (string)a["Type"]));
        Assert.Equal(3L, ads[0]["DagStatus"]);
        Assert.Equal((1L, 2L, 0L), ((long)ads[0]["NodesQueued"], (long)ads[0]["NodesUnready"], (long)ads[0]["NodesDone"]));
        Assert.Equal((long)ads[4]["EndTime"] + 1, (long)ads[4]["NextUpdate"]);
        Assert.Equal(
            [new NodeStatusAd("watch", DagNodeStatus.Submitted, "not_idle", 0, 1, 0), new NodeStatusAd("after", DagNodeStatus.NotReady, "", 0, 0, 0), new NodeStatusAd("fin", DagNodeStatus.NotReady, "", 0, 0, 0)],
            NodeStatusFile.ParseNodes(seen));
        // Line for line as DAGMan writes a running DAG and a running node (its snapshot of round 1 of ref.dag).
        string real = File.ReadAllText(Data("ref", "running", "ref.status.not_idle"));
        Assert.Contains("  DagStatus = 3; /* \"STATUS_SUBMITTED ()\" */\n", real);
        Assert.Contains("  DagStatus = 3; /* \"STATUS_SUBMITTED ()\" */\n", seen);
        const string running = "  NodeStatus = 3; /* \"STATUS_SUBMITTED\" */\n  StatusDetails = \"not_idle\";\n  RetryCount = 0;\n  JobProcsQueued = 1;\n  JobProcsHeld = 0;\n]\n";
        Assert.Contains(running, real);
        Assert.Contains(running, seen);
        Assert.Matches(@"  NextUpdate = \d+; /\* ""\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}"" \*/\n\]\n$", seen);

        // The last file says the DAG is over.
        var last = NodeStatusFile.ParseAds(File.ReadAllText(P("t.status")));
        Assert.Equal((5L, 0L), ((long)last[0]["DagStatus"], (long)last[^1]["NextUpdate"]));
        Assert.All(NodeStatusFile.ParseNodes(File.ReadAllText(P("t.status"))), n => Assert.Equal(DagNodeStatus.Done, n.Status));
    }

    [Fact]
    public async Task A_cancelled_run_is_recorded_as_a_removed_dag()
    {
        File.WriteAllText(P("sleep.sub"), "executable = /bin/sleep\narguments = \"30\"\nqueue\n");
        File.WriteAllText(P("true.sub"), "executable = /bin/true\nqueue\n");
        File.WriteAllText(P("t.dag"), """
            NODE_STATUS_FILE t.status 1
            JOBSTATE_LOG t.jobstate.log
            JOB quick true.sub
            JOB long sleep.sub

            """);
        using var cts = new CancellationTokenSource();
        var run = LocalDagExecutor.RunAsync(P("t.dag"), Options, cts.Token);
        for (int i = 0; i < 200 && !(File.Exists(P("t.status")) && File.ReadAllText(P("t.status")).Contains("not_idle")); i++) await Task.Delay(50);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        var ads = NodeStatusFile.ParseAds(File.ReadAllText(P("t.status")));
        Assert.Equal(6L, ads[0]["DagStatus"]);
        Assert.Contains("DagStatus = 6; /* \"STATUS_ERROR (removed)\" */", File.ReadAllText(P("t.status")));
        Assert.Equal(0L, ads[^1]["NextUpdate"]);
        Assert.Equal(new NodeStatusAd("long", DagNodeStatus.Error, "Was STATUS_SUBMITTED", 0, 0, 0), NodeStatusFile.ParseNodes(File.ReadAllText(P("t.status")))[1]);
        var log = JobstateLog.Read(P("t.jobstate.log"));
        Assert.Equal(("DAGMAN_FINISHED", "2"), (log[^1].Event, log[^1].Id));
        Assert.DoesNotContain(log, e => e.Node == "long" && e.Event == "JOB_TERMINATED");
        Assert.Equal(["quick"], RescueDag.DoneNodes(P("t.dag.rescue001")));
    }

    /// <summary>n.sub: a job that exits with its node's VARS code at once.</summary>
    private void WriteExitSub() => File.WriteAllText(P("n.sub"), """
        executable = /bin/sh
        arguments  = "-c 'exit $(code)'"
        queue

        """);

    [Fact]
    public async Task A_retry_is_numbered_after_every_node_that_was_ready_with_it_however_fast_its_first_attempt_exits()
    {
        // DAGMan submits every ready node before it reads an exit. 'quick' fails at once; the 40 others take a while to
        // start one after another, so without the wait for the pass its retry would take a number among theirs, as it
        // did once on a loaded CI machine.
        WriteExitSub();
        var dag = new System.Text.StringBuilder("JOBSTATE_LOG r.jobstate.log\nJOB quick n.sub\nVARS quick code=\"3\"\nRETRY quick 1\n");
        for (int i = 0; i < 40; i++) dag.Append(CultureInfo.InvariantCulture, $"JOB n{i} n.sub\nVARS n{i} code=\"0\"\n");
        File.WriteAllText(P("r.dag"), dag.ToString());
        var r = await LocalDagExecutor.RunAsync(P("r.dag"), Options, CancellationToken.None);
        Assert.False(r.AllSucceeded);
        var seq = Sequences(JobstateLog.Read(P("r.jobstate.log")));
        Assert.Equal([1, 42], seq["quick"]);
        for (int i = 0; i < 40; i++) Assert.Equal([i + 2], seq[$"n{i}"]);
    }

    [Fact]
    public async Task A_retry_waits_behind_a_node_its_category_limit_held_back_as_dagman_s_ready_queue_puts_it()
    {
        // MAXJOBS c 1: 'first' fails and is retried; 'second', ready from the start but held by the limit, goes before the
        // retry, as DAGMan 25.14.1 ran this DAG (it appends a retried node to its ready queue).
        WriteExitSub();
        File.WriteAllText(P("m.dag"), "JOBSTATE_LOG m.jobstate.log\nJOB first n.sub\nVARS first code=\"3\"\nRETRY first 1\nCATEGORY first c\n" +
            "JOB second n.sub\nVARS second code=\"0\"\nCATEGORY second c\nMAXJOBS c 1\n");
        var r = await LocalDagExecutor.RunAsync(P("m.dag"), Options, CancellationToken.None);
        Assert.False(r.AllSucceeded);
        var seq = Sequences(JobstateLog.Read(P("m.jobstate.log")));
        Assert.Equal([1, 3], seq["first"]);
        Assert.Equal([2], seq["second"]);
    }

    [Fact]
    public async Task Job_ids_are_the_cluster_macros_and_go_on_across_runs_and_done_nodes_are_user_defined()
    {
        File.WriteAllText(P("id.sub"), """
            executable = /bin/sh
            arguments  = "-c 'echo $(Cluster) $(DAGManJobId) > $(JOB).id'"
            +pegasus_site = "local"
            queue

            """);
        File.WriteAllText(P("t.dag"), """
            NODE_STATUS_FILE t.status
            JOBSTATE_LOG t.jobstate.log
            JOB before id.sub DONE
            JOB a id.sub
            JOB b id.sub
            PARENT before CHILD a

            """);
        for (int run = 0; run < 2; run++)
        {
            var r = await LocalDagExecutor.RunAsync(P("t.dag"), Options, CancellationToken.None);
            Assert.True(r.AllSucceeded);
            var round = Rounds(JobstateLog.Read(P("t.jobstate.log")))[run];
            foreach (var node in new[] { "a", "b" })
            {
                var submit = round.Single(e => e.Node == node && e.Event == "SUBMIT");
                Assert.Equal($"{submit.Cluster} {round[0].Cluster}", File.ReadAllText(P(node + ".id")).Trim());
                // The job tag is the submit file's +pegasus_site, as DAGMan writes it.
                Assert.Equal("local", submit.Tag);
            }
            // No rescue DAG was applied: sequence numbers start again at 1, as DAGMan's do.
            Assert.Equal([1, 2], round.Where(e => e.Event == "SUBMIT").Select(e => e.Sequence));
            if (run == 1) Assert.True(round[0].Cluster > Rounds(JobstateLog.Read(P("t.jobstate.log")))[0].Max(e => e.Cluster));
        }
        Assert.False(File.Exists(P("before.id")));
        Assert.Equal(new NodeStatusAd("before", DagNodeStatus.Done, "User defined as DONE", 0, 0, 0), NodeStatusFile.ParseNodes(File.ReadAllText(P("t.status")))[0]);
    }

    [Fact]
    public async Task A_service_that_stops_by_itself_has_its_termination_recorded_one_killed_has_none_and_neither_is_listed()
    {
        File.WriteAllText(P("polite.sub"), "executable = /bin/sh\narguments = \"-c 'while [ ! -e stop ]; do sleep 0.05; done'\"\nqueue\n");
        File.WriteAllText(P("stubborn.sub"), "executable = /bin/sleep\narguments = \"30\"\nqueue\n");
        File.WriteAllText(P("stop.sub"), "executable = /bin/touch\narguments = \"stop\"\nqueue\n");
        File.WriteAllText(P("t.dag"), """
            NODE_STATUS_FILE t.status
            JOBSTATE_LOG t.jobstate.log
            SERVICE polite polite.sub
            SERVICE stubborn stubborn.sub
            FINAL fin stop.sub

            """);
        var r = await LocalDagExecutor.RunAsync(P("t.dag"), Options with { StopGrace = TimeSpan.FromSeconds(5) }, CancellationToken.None);
        Assert.True(r.AllSucceeded);
        var events = Events(JobstateLog.Read(P("t.jobstate.log")));
        Assert.Equal(["SUBMIT", "EXECUTE", "JOB_TERMINATED", "JOB_SUCCESS 0"], events["polite"]);
        Assert.Equal(["SUBMIT", "EXECUTE"], events["stubborn"]);
        Assert.Equal(["fin"], NodeStatusFile.ParseNodes(File.ReadAllText(P("t.status"))).Select(n => n.Node));
    }

    [Theory]
    [InlineData("NODE_STATUS_FILE s.status", "s.status", 60, false)]
    [InlineData("NODE_STATUS_FILE s.status 5", "s.status", 5, false)]
    [InlineData("NODE_STATUS_FILE s.status 5 ALWAYS-UPDATE", "s.status", 5, true)]
    [InlineData("NODE_STATUS_FILE s.status ALWAYS-UPDATE", "s.status", 60, true)]
    public void Node_status_file_commands_are_read_with_dagman_s_defaults(string line, string file, int seconds, bool always)
    {
        File.WriteAllText(P("t.dag"), $"{line}\nNODE_STATUS_FILE later.status 1\nJOBSTATE_LOG j.log\nJOB a a.sub\n");
        var dag = DagFile.Load(P("t.dag"));
        Assert.Equal(new DagStatusFileCommand(file, seconds, always), dag.NodeStatusFile);
        Assert.Equal("j.log", dag.JobstateLog);
        File.WriteAllText(P("bad.dag"), "NODE_STATUS_FILE s.status soon\nJOB a a.sub\n");
        Assert.Contains("bad.dag (line 1): NODE_STATUS_FILE: 'soon' is neither a number of seconds nor ALWAYS-UPDATE", Assert.Throws<BadInputException>(() => DagFile.Load(P("bad.dag"))).Message);
    }

    [Fact]
    public async Task Always_update_rewrites_the_status_file_at_every_interval_otherwise_only_after_a_change()
    {
        // The node reads the status file's Timestamp for 4.5 s while nothing in the DAG changes.
        File.WriteAllText(P("watch.sh"), """
            n=0
            while [ $n -lt 45 ]; do grep Timestamp t.status >> seen.txt 2>/dev/null; sleep 0.1; n=$((n+1)); done

            """);
        File.WriteAllText(P("watch.sub"), "executable = /bin/sh\narguments = \"watch.sh\"\nqueue\n");
        async Task<int> Distinct(string sub, string option)
        {
            string dir = P(sub);
            Directory.CreateDirectory(dir);
            File.Copy(P("watch.sh"), Path.Combine(dir, "watch.sh"));
            File.Copy(P("watch.sub"), Path.Combine(dir, "watch.sub"));
            File.WriteAllText(Path.Combine(dir, "t.dag"), $"NODE_STATUS_FILE t.status 1 {option}\nJOB w watch.sub\n");
            var r = await LocalDagExecutor.RunAsync(Path.Combine(dir, "t.dag"), Options, CancellationToken.None);
            Assert.True(r.AllSucceeded);
            return File.ReadAllLines(Path.Combine(dir, "seen.txt")).Distinct().Count();
        }
        var always = Distinct("always", "ALWAYS-UPDATE");
        var onChange = Distinct("onchange", "");
        // Without ALWAYS-UPDATE: the first file and the one after the node started, then nothing until the end.
        Assert.InRange(await onChange, 1, 2);
        // With it: one a second (at least 3 in 4.5 s, leaving room for a loaded machine).
        Assert.True(await always >= 3, $"{await always} rewrites seen in 4.5 s with ALWAYS-UPDATE at 1 s");
    }

    [Fact]
    public async Task A_jobstate_log_that_cannot_be_appended_to_is_bad_input_naming_it()
    {
        Directory.CreateDirectory(P("logdir"));
        File.WriteAllText(P("true.sub"), "executable = /bin/true\nqueue\n");
        File.WriteAllText(P("t.dag"), "JOBSTATE_LOG logdir\nJOB a true.sub\n");
        var e = await Assert.ThrowsAsync<BadInputException>(() => LocalDagExecutor.RunAsync(P("t.dag"), Options, CancellationToken.None));
        Assert.StartsWith(P("logdir") + ": cannot append to the DAG's JOBSTATE_LOG", e.Message);
    }

    [Fact]
    public void Status_files_parse_back_with_escapes_and_comments()
    {
        string text = NodeStatusFile.Format("x.dag", DagNodeStatus.Error, "failed",
            [new NodeStatusAd("n", DagNodeStatus.Error, "Job submit failed: a \"quoted\" \\path\nline", 2, 0, 0)], 1795368354, 1795368354, 0);
        var nodes = NodeStatusFile.ParseNodes(text);
        Assert.Equal("Job submit failed: a \"quoted\" \\path\nline", nodes[0].Details);
        Assert.Contains("StatusDetails = \"Job submit failed: a \\\"quoted\\\" \\\\path\\nline\";", text);
        // DAGMan's own files parse with the same reader.
        var real = NodeStatusFile.ParseAds(File.ReadAllText(Data("ref", "round1", "ref.status")));
        Assert.Equal(new List<object> { "ref.dag" }, real[0]["DagFiles"]);
        Assert.Equal(7, NodeStatusFile.ParseNodes(File.ReadAllText(Data("ref", "round1", "ref.status"))).Count);
    }

    [GeneratedRegex(@"(Timestamp|EndTime|NextUpdate) = [1-9]\d*; /\* ""[^""]*"" \*/")]
    private static partial Regex StatusTime();

    [GeneratedRegex(@"Job proc \(\d+\.0\.0\)")]
    private static partial Regex JobProc();

    [GeneratedRegex(@"# Created \d+/\d+/\d{4} \d\d:\d\d:\d\d UTC")]
    private static partial Regex RescueCreated();

    [GeneratedRegex(@"sleep=""\d+""")]
    private static partial Regex SleepValue();
}
