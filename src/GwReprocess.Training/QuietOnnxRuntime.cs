using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Training;

/// <summary>ONNX Runtime's environment at error level: its default warns on stderr about telemetry certificates a training root lacks.</summary>
internal static class QuietOnnxRuntime
{
    /// <summary>Creates the environment at error level unless one exists.</summary>
    public static void Ensure()
    {
        if (OrtEnv.IsCreated) return;
        var quiet = new EnvironmentCreationOptions { logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        OrtEnv.CreateInstanceWithOptions(ref quiet);
    }
}
