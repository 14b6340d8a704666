namespace GwReprocess.Jobs;

/// <summary>How one detector streams to a hermes ensemble: its own sequence, witnesses only, one noise output.</summary>
/// <param name="Model">The detector's ensemble.</param>
/// <param name="InputName">Its streaming input (hermes: <c>snapshot_update</c>).</param>
/// <param name="Output">The output read: <c>output_stream</c> [1, B·stride] (server-side averaging) or <c>noise</c> [B, K] (averaged on the client).</param>
/// <param name="ServerAggregated">True when <paramref name="Output"/> is the server's online average.</param>
/// <param name="AveragedWindows">Predictions the server averages per sample (the aggregator's num_updates); 0 when averaged on the client.</param>
/// <param name="Lag">Samples the averaged output lags the input by: (num_updates − 1)·stride; 0 when averaged on the client.</param>
public sealed record HermesStream(string Model, string InputName, string Output, bool ServerAggregated, int AveragedWindows, int Lag);
