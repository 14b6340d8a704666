using GwReprocess.Frames.Gwf;
using GwReprocess.Tests.Cli;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run</c> with <c>[training]</c> (issue 18): each chunk's training node runs as a process before that chunk's
/// clients, with the DAG's argv, and the clients clean with the version it wrote, through the pinned ensemble the polling
/// server picked up. The training program here is a test double (it copies the fitted Wiener cleaner as the new version);
/// it tests the runner's ordering and argv, not training.
/// </summary>
public sealed class RunTrainingTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-train-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>
    /// The test double of the training PROGRAM: records its argv, then writes what the real program writes — version K of
    /// each cleaner (here a copy of the fitted version 1), the cleaners' version_policy all, and the pinned ensemble
    /// gwe2e-vK — each appearing by a rename, as PinnedEnsemble does.
    /// </summary>
    private const string TrainingProgramDouble = """
        #!/bin/sh
        set -eu
        echo "$*" >> training-double.log
        out=""; version=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --out) out="$2"; shift 2 ;;
            --version) version="$2"; shift 2 ;;
            *) shift ;;
          esac
        done
        for m in wiener-h1 wiener-l1; do
          rm -rf "$out/$m/.tmp-$version"
          cp -r "$out/$m/1" "$out/$m/.tmp-$version"
          mv -T "$out/$m/.tmp-$version" "$out/$m/$version"
          # Training nodes run side by side: the check-then-append must not interleave (PinnedEnsemble parses and rewrites instead).
          (
            flock 9
            if ! grep -q version_policy "$out/$m/config.pbtxt"; then
              { cat "$out/$m/config.pbtxt"; printf 'version_policy {\n  all {\n  }\n}\n'; } > "$out/$m/.config.tmp.$$"
              mv "$out/$m/.config.tmp.$$" "$out/$m/config.pbtxt"
            fi
          ) 9>"$out/.double.lock"
        done
        tmp="$out/.gwe2e-v$version.tmp"
        rm -rf "$tmp"; mkdir -p "$tmp/1"; : > "$tmp/1/model.empty"
        awk -v k="$version" '/^name: /{print "name: \"gwe2e-v" k "\""; next}
          /model_name: "wiener-/{pin=1} pin && /model_version:/{sub(/-1/, k); pin=0} {print}' "$out/gwe2e/config.pbtxt" > "$tmp/config.pbtxt"
        mv -T "$tmp" "$out/gwe2e-v$version"
        """;

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Training_nodes_run_before_their_chunks_clients_which_clean_with_the_version_trained_for_them()
    {
        string program = Path.Combine(_dir.FullName, "training-program-double.sh");
        File.WriteAllText(program, TrainingProgramDouble.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string workflow = Path.Combine(_dir.FullName, "tiny.toml");
        File.WriteAllText(workflow, RunEndToEndTests.Workflow + $"""

            [training]
            program = "{program}"
            span = 8
            chunk = 24
            minimum = 16
            seed = 5
            poll = 1

            """);
        string run = Path.Combine(_dir.FullName, "run");
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("run: 2 of 2 client job(s) complete (2 run, 0 done before), 0 failed", r.StdOut);
        Assert.Contains("run: 2 of 2 training node(s) complete, 0 failed, 0 not run", r.StdOut);

        // Jobs [8, 32) and [32, 56) are one 24 s chunk each: the first trains on [0, 8), the second on the 8 s before it.
        Assert.Equal([
            "deepclean --workflow workflow.toml --fit frames --start 1000000000 --end 1000000008 --validation 2 --out models --version 101 --seed 5",
            "deepclean --workflow workflow.toml --fit frames --start 1000000024 --end 1000000032 --validation 2 --out models --version 102 --seed 5",
        ], File.ReadAllLines(Path.Combine(run, "training-double.log")).Order());

        var log = JobstateLog.Read(Path.Combine(run, "reprocess.jobstate.log"));
        int Index(string node, string e) => log.ToList().FindIndex(x => x.Node == node && x.Event == e);
        foreach (var (train, client) in new[] { ("train_H1L1_1000000000_8", "clean_H1L1_1000000008_24"), ("train_H1L1_1000000024_8", "clean_H1L1_1000000032_24") })
        {
            Assert.True(Index(train, "JOB_SUCCESS") >= 0, $"{train} did not succeed");
            Assert.True(Index(train, "JOB_SUCCESS") < Index(client, "SUBMIT"), $"{client} was submitted before {train} succeeded");
        }

        // Each chunk's frames were cleaned by its own version, through its pinned ensemble (the frames' provenance).
        foreach (var (start, version) in new[] { (1000000008, 101), (1000000032, 102) })
        {
            await using var gwf = await GwfFile.OpenAsync(Path.Combine(run, "out", "cleaned", "H1", $"H-H1_CLEAN-{start}-24.gwf"));
            var history = (await gwf.GetFrameDetailsAsync(0)).History;
            Assert.Contains($"minus the noise estimate of wiener-h1 version {version} (ensemble gwe2e-v{version} version 1)", history[0].Comment, StringComparison.Ordinal);
        }
        Assert.Contains("--repository-poll-secs", File.ReadAllText(Path.Combine(run, "server.sub")), StringComparison.Ordinal);
    }
}
