namespace GwReprocess.Jobs;

/// <summary>A client job failed for good (after its retries): exit 1 with <see cref="Exception.Message"/> as the reason.</summary>
public sealed class ClientJobFailedException(string message, Exception? inner = null) : Exception(message, inner);
