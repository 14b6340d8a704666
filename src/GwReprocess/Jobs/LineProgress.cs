namespace GwReprocess.Jobs;

/// <summary>Passes readiness progress on to the job's reporter as log lines.</summary>
internal sealed class LineProgress(Action<string> line) : IProgress<string>
{
    public void Report(string value) => line(value);
}
