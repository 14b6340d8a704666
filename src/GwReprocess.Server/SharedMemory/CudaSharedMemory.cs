using GwReprocess.Server.Execution;

namespace GwReprocess.Server.SharedMemory;

/// <summary>Triton's CUDA shared-memory extension as a Triton built without GPU support answers it, for both front ends.</summary>
/// <remarks>
/// Nothing is ever registered: status lists no region, registration is INVALID_ARGUMENT, unregistration succeeds and, as in
/// Triton (which unregisters only regions of the CUDA kind), leaves system regions of the same name alone.
/// </remarks>
public static class CudaSharedMemory
{
    /// <summary>Always fails with Triton's no-GPU message.</summary>
    public static InferenceException RegisterRefused(string name) =>
        InferenceException.Invalid($"failed to register CUDA shared memory region: '{name}', GPUs not supported");

    /// <summary>Status of one named region: always NOT_FOUND, with Triton's message for a name that is a system region.</summary>
    public static InferenceException NotFound(string name, SystemSharedMemoryRegistry system)
    {
        bool isSystem;
        try { isSystem = system.Regions(name).Count > 0; }
        catch (InferenceException) { isSystem = false; }
        return InferenceException.NotFound(isSystem
            ? $"The region named '{name}' is registered as system shared memory, not CUDA shared memory"
            : $"Unable to find cuda shared memory region: '{name}'");
    }
}
