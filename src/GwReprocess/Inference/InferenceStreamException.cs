using Grpc.Core;

namespace GwReprocess.Inference;

/// <summary>An inference stream failed: a gRPC error, an in-band error response or a lost stream.</summary>
/// <remarks>
/// <see cref="Transient"/> says whether reconnecting and replaying can help: true for a server that went away or hiccuped
/// (Unavailable, Internal, Aborted, a lost stream, an in-band error), false for a request the server will never accept
/// (InvalidArgument, NotFound, Unauthenticated, PermissionDenied, Unimplemented, FailedPrecondition, OutOfRange).
/// </remarks>
public sealed class InferenceStreamException : Exception
{
    public InferenceStreamException(string message, bool transient, StatusCode? status = null, Exception? inner = null) : base(message, inner)
    {
        Transient = transient;
        Status = status;
    }

    /// <summary>True when retrying (a new stream, the sequence replayed) can succeed.</summary>
    public bool Transient { get; }

    /// <summary>The gRPC status code, when the failure was a gRPC status.</summary>
    public StatusCode? Status { get; }

    /// <summary>Whether a gRPC status code is worth a retry.</summary>
    public static bool IsTransient(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.Unauthenticated or StatusCode.PermissionDenied
            or StatusCode.Unimplemented or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.AlreadyExists => false,
        _ => true,
    };

    /// <summary>Wraps a gRPC error; the message names the server and the status.</summary>
    public static InferenceStreamException FromRpc(RpcException e, string where) =>
        new($"{where}: {e.StatusCode}: {e.Status.Detail}", IsTransient(e.StatusCode), e.StatusCode, e);
}
