namespace GwReprocess.Jobs;

/// <summary>Which streaming contract an ensemble offers, learned from its ModelConfig.</summary>
public enum StreamContract
{
    /// <summary>GwReprocess's own: one sequence per job, one update with every detector's witnesses and strain, outputs <c>noise_&lt;ifo&gt;</c> [B, K] (and <c>score</c>).</summary>
    Native,

    /// <summary>ML4GW hermes's: one ensemble and one sequence per detector, witnesses only [1, C, B·stride], output <c>output_stream</c> [1, B·stride] averaged on the server (lagging the input) or raw <c>noise</c> [B, K].</summary>
    Hermes,

    /// <summary>Detection only, for strain-only workflows: one sequence per job, one update of the detectors' strains <c>[1, D, B·stride]</c> (no witnesses), output <c>score</c> [B, 1] and no noise output (only the score is read); nothing is cleaned.</summary>
    Detection,
}
