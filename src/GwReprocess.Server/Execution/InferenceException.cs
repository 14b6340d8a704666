using Grpc.Core;

namespace GwReprocess.Server.Execution;

/// <summary>A request failure with the gRPC status Triton would give it (the HTTP status follows from the code).</summary>
public sealed class InferenceException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>Refused by a scheduler's queue policy (queue full or timeout): Triton counts these under failure reason REJECTED.</summary>
    public bool IsRejection { get; private init; }

    /// <summary>The model execution failed (Triton's failure reason BACKEND); other refusals by the server count as OTHER.</summary>
    public bool IsBackend { get; private init; }

    /// <summary>A failure of the model execution itself.</summary>
    public static InferenceException Backend(string message) => new(StatusCode.Internal, message) { IsBackend = true };

    /// <summary>Triton's UNAVAILABLE for a request its queue policy refuses.</summary>
    public static InferenceException Rejection(string message) => new(StatusCode.Unavailable, message) { IsRejection = true };

    public static InferenceException Invalid(string message) => new(StatusCode.InvalidArgument, message);

    public static InferenceException NotFound(string message) => new(StatusCode.NotFound, message);

    public static InferenceException Unavailable(string message) => new(StatusCode.Unavailable, message);

    /// <summary>Triton's HTTP status for a gRPC code (triton-protocol.md §1.8).</summary>
    public static int HttpStatus(StatusCode code) => code switch
    {
        StatusCode.NotFound => 404,
        StatusCode.Internal => 500,
        StatusCode.Unavailable => 503,
        StatusCode.Unimplemented => 501,
        StatusCode.Unauthenticated => 401,
        _ => 400,
    };
}
